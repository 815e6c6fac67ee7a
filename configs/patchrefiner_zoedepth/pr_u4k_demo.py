# pr_u4k.py at the demo's size, on the coarse model of zoedepth_coarse_pretrain_u4k_demo.py; the demo passes
# the data paths, the frame and patch shapes and the coarse checkpoint with --cfg-options.
_base_ = ['./pr_u4k.py', '../_base_/demo.py']

model = dict(config=dict(patch_process_shape=demo_process_shape, coarse_branch=demo_zoe,
                         refiner=dict(fine_branch=demo_zoe)))
train_cfg = dict(max_epochs=36, val_interval=36, save_checkpoint_interval=36, log_interval=20)
optim_wrapper = dict(optimizer=dict(lr=0.001))
train_dataloader = dict(batch_size=2, dataset=dict(transform_cfg=dict(network_process_size=demo_process_shape)))
val_dataloader = dict(dataset=dict(transform_cfg=dict(network_process_size=demo_process_shape)))
# The demo's coarse model is trained from scratch in minutes, so the fine branch it initialises has little to
# protect: its core learns at the full rate.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'refiner_fine_branch.core': dict(lr_mult=1.0, decay_mult=1.0)}))
