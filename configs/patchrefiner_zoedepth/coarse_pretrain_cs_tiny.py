# coarse_pretrain_cs.py at reduced size (a small ZoeDepth from scratch: no published weights fit it).
_base_ = ['./coarse_pretrain_cs.py', '../_base_/tiny.py']

model = dict(coarse_branch=dict(tiny_zoe, pretrained_resource=None))
train_dataloader = dict(batch_size=2, dataset=dict(transform_cfg=dict(
    random_crop_size=[64, 128], network_process_size=tiny_process_shape)))
val_dataloader = dict(dataset=dict(transform_cfg=dict(network_process_size=tiny_process_shape)))
