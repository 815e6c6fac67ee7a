# A coarse ZoeDepth: the whole image at 384x512 against full-resolution ground truth, from the ZoeDepth-N weights;
# AdamW with the MiDaS core at lr x 0.1, gradient-norm clipping at 0.1, OneCycle from its peak.
_base_ = ['./zoedepth_n.py']

min_depth = 1e-3
max_depth = 80

model = dict(
    type='BaselinePretrain',
    min_depth=min_depth,
    max_depth=max_depth,
    target='coarse',
    coarse_branch=dict(zoe_depth_config, min_depth=min_depth, max_depth=max_depth,
                       pretrained_resource='local::./work_dir/ZoeDepthv1.pt'),
    sigloss=dict(type='SILogLoss'))

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=0.000161, weight_decay=0.01),
    clip_grad=dict(type='norm', max_norm=0.1, norm_type=2),
    paramwise_cfg=dict(bypass_duplicate=True,
                       custom_keys={'coarse_branch.core': dict(lr_mult=0.1, decay_mult=1.0)}))

param_scheduler = dict(cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=1,
                       final_div_factor=10000, pct_start=0.5, three_phase=False)

convert_syncbn = True
find_unused_parameters = True
