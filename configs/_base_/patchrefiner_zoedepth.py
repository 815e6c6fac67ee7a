# PatchRefiner with two ZoeDepth-N branches and its training recipe (AdamW, the fine-branch core at lr x 0.1,
# gradient-norm clipping at 0.1, OneCycle stepped per iteration). pr_u4k.py and pr_cs.py add data and geometry.
_base_ = ['./zoedepth_n.py']

min_depth = 1e-3
max_depth = 80
zoe_depth_config = dict(zoe_depth_config, min_depth=min_depth, max_depth=max_depth)

model = dict(
    type='PatchRefiner',
    config=dict(
        patch_process_shape=[384, 512],
        patch_split_num=[4, 4],
        fusion_feat_level=6,
        min_depth=min_depth,
        max_depth=max_depth,
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

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=0.000161, weight_decay=0.01),
    clip_grad=dict(type='norm', max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(bypass_duplicate=True,
                       custom_keys={'refiner_fine_branch.core': dict(lr_mult=0.1, decay_mult=1.0)}))

param_scheduler = dict(cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=2,
                       final_div_factor=100, pct_start=0.3, three_phase=False)

convert_syncbn = True
find_unused_parameters = True
