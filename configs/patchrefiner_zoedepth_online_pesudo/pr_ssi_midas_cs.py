# Teacher-student ("DSD") stage on CityScapes: the student (CityScapes PatchRefiner) learns from ground truth
# and, through a scale-and-shift-invariant loss, from the detail of a frozen teacher trained on UnrealStereo4K.
# The released model sets the detail weight on the command line: --cfg-options model.edge_loss_weight=7e-2
_base_ = [
    '../_base_/datasets/cityscapes.py',
    '../_base_/datasets/general_dataset.py',
    '../_base_/run_time.py',
    '../_base_/zoedepth_n.py',
    './base_pr_s2r_optim.py',
]

min_depth = 1e-3
max_depth = 250
zoe_depth_config = dict(zoe_depth_config, min_depth=min_depth, max_depth=max_depth)
fusion_unet = dict(type='FusionUnet', input_chl=[32 * 2] + [256 * 2] * 5, temp_chl=[32] + [256] * 5,
                   dec_chl=[256] * 4 + [32])
# Both models see CityScapes geometry; they differ in their weights.
cs_geometry = dict(image_raw_shape=[1024, 2048], patch_process_shape=[384, 512], patch_raw_shape=[256, 512],
                   patch_split_num=[4, 4], fusion_feat_level=6, min_depth=min_depth, max_depth=max_depth,
                   strategy_refiner_target='offset_coarse', coarse_branch=zoe_depth_config,
                   refiner=dict(fine_branch=zoe_depth_config, fusion_model=fusion_unet),
                   sigloss=dict(type='SILogLoss'), pre_norm_bbox=True, load_whole=True)

sub_model_student = dict(
    type='PatchRefiner',
    config=dict(**cs_geometry,
                pretrain_coarse_model='./work_dir/zoedepth/cs/coarse_pretrain/checkpoint_05.pth',
                pretrained='./work_dir/zoedepth/cs/pr/checkpoint_05.pth'))

model_cfg_teacher = dict(
    type='PatchRefiner',
    config=dict(**cs_geometry,
                pretrain_coarse_model='./work_dir/zoedepth/u4k/coarse_pretrain/checkpoint_24.pth',
                pretrained='./work_dir/zoedepth/u4k/pr/checkpoint_36.pth'))

model = dict(
    type='PatchRefinerSemi',
    model_cfg_student=sub_model_student,
    model_cfg_teacher=model_cfg_teacher,
    mix_loss=False,
    edge_loss_weight=1,
    edgeloss=dict(type='ScaleAndShiftInvariantLoss', only_missing_area=False),
    sigloss=dict(type='SILogLoss'),
    min_depth=min_depth,
    max_depth=max_depth)

project = 'patchrefiner'

train_cfg = dict(max_epochs=2, val_interval=1, save_checkpoint_interval=2, log_interval=100,
                 train_log_img_interval=1000, val_log_img_interval=50, val_type='epoch_base', eval_start=0)

convert_syncbn = True
find_unused_parameters = True

train_dataloader = dict(dataset=dict(with_pseudo_label=False, transform_cfg=dict(image_raw_shape=[1024, 2048])))
