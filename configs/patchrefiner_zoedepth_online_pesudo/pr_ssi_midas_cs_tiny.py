# pr_ssi_midas_cs.py at reduced size: student from pr_cs_tiny.py, teacher from pr_u4k_tiny.py.
_base_ = ['./pr_ssi_midas_cs.py', '../_base_/tiny.py']

tiny_models = dict(config=dict(patch_process_shape=tiny_process_shape, coarse_branch=tiny_zoe,
                               refiner=dict(fine_branch=tiny_zoe)))
model = dict(model_cfg_student=tiny_models, model_cfg_teacher=tiny_models)
train_dataloader = dict(batch_size=2, dataset=dict(transform_cfg=dict(
    random_crop_size=[64, 128], network_process_size=tiny_process_shape)))
val_dataloader = dict(dataset=dict(transform_cfg=dict(network_process_size=tiny_process_shape)))
