# PatchRefiner on CityScapes: the CityScapes coarse model (work_dir/zoedepth/cs/coarse_pretrain), 256x512 crops
# of 1024x2048 images, depth up to 250 m, 5 epochs; optimiser and schedule as pr_u4k.py.
_base_ = [
    '../_base_/datasets/cityscapes.py',
    '../_base_/datasets/general_dataset.py',
    '../_base_/run_time.py',
    '../_base_/patchrefiner_zoedepth.py',
]

max_depth = 250

model = dict(
    config=dict(
        image_raw_shape=[1024, 2048],
        patch_raw_shape=[256, 512],
        max_depth=max_depth,
        coarse_branch=dict(max_depth=max_depth),
        refiner=dict(fine_branch=dict(max_depth=max_depth)),
        pretrain_coarse_model='./work_dir/zoedepth/cs/coarse_pretrain/checkpoint_05.pth'))

train_cfg = dict(max_epochs=5, val_interval=1, save_checkpoint_interval=5, log_interval=100,
                 train_log_img_interval=1000, val_log_img_interval=50, val_type='epoch_base', eval_start=0)

train_dataloader = dict(dataset=dict(transform_cfg=dict(image_raw_shape=[1024, 2048])))
