# pr_u4k.py at reduced size; its coarse model comes from zoedepth_coarse_pretrain_u4k_tiny.py.
_base_ = ['./pr_u4k.py', '../_base_/tiny.py']

model = dict(config=dict(patch_process_shape=tiny_process_shape, coarse_branch=tiny_zoe,
                         refiner=dict(fine_branch=tiny_zoe)))
train_dataloader = dict(batch_size=2, dataset=dict(transform_cfg=dict(network_process_size=tiny_process_shape)))
val_dataloader = dict(dataset=dict(transform_cfg=dict(network_process_size=tiny_process_shape)))
