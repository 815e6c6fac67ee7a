# Coarse ZoeDepth on CityScapes: 5 epochs, depth up to 250 m.
_base_ = [
    '../_base_/datasets/cityscapes.py',
    '../_base_/datasets/general_dataset.py',
    '../_base_/run_time.py',
    '../_base_/coarse_pretrain_zoedepth.py',
]

max_depth = 250
model = dict(max_depth=max_depth, coarse_branch=dict(max_depth=max_depth))

project = 'patchrefiner'
train_cfg = dict(max_epochs=5, val_interval=1, save_checkpoint_interval=5, log_interval=100,
                 train_log_img_interval=1000, val_log_img_interval=50, val_type='epoch_base', eval_start=0)
train_dataloader = dict(dataset=dict(transform_cfg=dict(image_raw_shape=[1024, 2048])))
