# Coarse ZoeDepth on UnrealStereo4K (PatchFusion's recipe, used by PatchRefiner): 24 epochs at lr 2e-4.
_base_ = [
    '../_base_/datasets/u4k.py',
    '../_base_/datasets/general_dataset.py',
    '../_base_/run_time.py',
    '../_base_/coarse_pretrain_zoedepth.py',
]

project = 'patchfusion'
train_cfg = dict(max_epochs=24, val_interval=2, save_checkpoint_interval=24, log_interval=100,
                 train_log_img_interval=500, val_log_img_interval=50, val_type='epoch_base', eval_start=0)
optim_wrapper = dict(optimizer=dict(lr=0.0002))
train_dataloader = dict(dataset=dict(transform_cfg=dict(image_raw_shape=[2160, 3840])))
