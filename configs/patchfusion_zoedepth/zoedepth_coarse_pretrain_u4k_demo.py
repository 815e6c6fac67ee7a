# zoedepth_coarse_pretrain_u4k.py at the demo's size (from scratch: no published weights fit it), trained by
# `depthforge demo patchrefiner` on synthetic frames; the demo passes the data paths with --cfg-options.
_base_ = ['./zoedepth_coarse_pretrain_u4k.py', '../_base_/demo.py']

model = dict(coarse_branch=dict(demo_zoe, pretrained_resource=None))
train_cfg = dict(max_epochs=24, val_interval=24, save_checkpoint_interval=24, log_interval=20)
optim_wrapper = dict(optimizer=dict(lr=0.001))
train_dataloader = dict(batch_size=2, dataset=dict(transform_cfg=dict(network_process_size=demo_process_shape)))
val_dataloader = dict(dataset=dict(transform_cfg=dict(network_process_size=demo_process_shape)))
# From scratch there are no pretrained core weights to protect: the core learns at the full rate.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'coarse_branch.core': dict(lr_mult=1.0, decay_mult=1.0)}))
