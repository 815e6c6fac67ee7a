# PatchRefiner on UnrealStereo4K: frozen coarse model (work_dir/zoedepth/u4k/coarse_pretrain), fine branch
# initialised from it, FusionUnet residual on the coarse depth; 36 epochs of one random 540x960 crop per image.
_base_ = [
    '../_base_/datasets/u4k.py',
    '../_base_/datasets/general_dataset.py',
    '../_base_/run_time.py',
    '../_base_/zoedepth_n.py',
]

min_depth = 1e-3
max_depth = 80
zoe_depth_config = dict(zoe_depth_config, min_depth=min_depth, max_depth=max_depth)

model = dict(
    type='PatchRefiner',
    config=dict(
        image_raw_shape=[2160, 3840],
        patch_process_shape=[384, 512],
        patch_raw_shape=[540, 960],
        patch_split_num=[4, 4],
        fusion_feat_level=6,
        min_depth=min_depth,
        max_depth=max_depth,
        pretrain_coarse_model='./work_dir/zoedepth/u4k/coarse_pretrain/checkpoint_24.pth',
        strategy_refiner_target='offset_coarse',
        coarse_branch=zoe_depth_config,
        refiner=dict(
            fine_branch=zoe_depth_config,
            fusion_model=dict(type='FusionUnet',
                              input_chl=[32 * 2] + [256 * 2] * 5,
                              temp_chl=[32] + [256] * 5,
                              dec_chl=[256] * 4 + [32])),
        sigloss=dict(type='SILogLoss'),
        pretrained=None,
        pre_norm_bbox=True))

project = 'patchrefiner'

train_cfg = dict(max_epochs=36, val_interval=4, save_checkpoint_interval=36, log_interval=100,
                 train_log_img_interval=500, val_log_img_interval=30, val_type='epoch_base', eval_start=0)

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=0.000161, weight_decay=0.01),
    clip_grad=dict(type='norm', max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(bypass_duplicate=True,
                       custom_keys={'refiner_fine_branch.core': dict(lr_mult=0.1, decay_mult=1.0)}))

param_scheduler = dict(cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=2,
                       final_div_factor=100, pct_start=0.3, three_phase=False)

convert_syncbn = True
find_unused_parameters = True

train_dataloader = dict(dataset=dict(transform_cfg=dict(image_raw_shape=[2160, 3840])))
