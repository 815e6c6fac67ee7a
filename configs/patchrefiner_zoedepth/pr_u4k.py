# PatchRefiner on UnrealStereo4K: frozen coarse model (work_dir/zoedepth/u4k/coarse_pretrain), fine branch
# initialised from it, FusionUnet residual on the coarse depth; 36 epochs of one random 540x960 crop per image.
_base_ = [
    '../_base_/datasets/u4k.py',
    '../_base_/datasets/general_dataset.py',
    '../_base_/run_time.py',
    '../_base_/patchrefiner_zoedepth.py',
]

model = dict(
    config=dict(
        image_raw_shape=[2160, 3840],
        patch_raw_shape=[540, 960],
        pretrain_coarse_model='./work_dir/zoedepth/u4k/coarse_pretrain/checkpoint_24.pth'))

train_cfg = dict(max_epochs=36, val_interval=4, save_checkpoint_interval=36, log_interval=100,
                 train_log_img_interval=500, val_log_img_interval=30, val_type='epoch_base', eval_start=0)

train_dataloader = dict(dataset=dict(transform_cfg=dict(image_raw_shape=[2160, 3840])))
