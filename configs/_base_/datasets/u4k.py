# UnrealStereo4K in the SMD-Nets layout under data/u4k (docs/data.md). Depth range 1 mm to 80 m.
u4k_root = './data/u4k'
u4k_range = dict(min_depth=1e-3, max_depth=80)

train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    dataset=dict(
        type='UnrealStereo4kDataset', mode='train', data_root=u4k_root,
        split='./data/u4k/splits/train.txt', **u4k_range,
        transform_cfg=dict(degree=1.0, random_crop=True, network_process_size=[384, 512])))

# Evaluation reads whole frames (no augmentation), one at a time.
u4k_infer = dict(type='UnrealStereo4kDataset', mode='infer', data_root=u4k_root, **u4k_range,
                 transform_cfg=dict(network_process_size=[384, 512]))
val_dataloader = dict(batch_size=1, num_workers=2, dataset=dict(u4k_infer, split='./data/u4k/splits/val.txt'))
# The reference's shipped split is named test_in.txt; ours is test.txt (see docs/patchrefiner_tools.md).
test_in_dataloader = dict(batch_size=1, num_workers=2,
                          dataset=dict(u4k_infer, split='./data/u4k/splits/test.txt'))
test_out_dataloader = dict(batch_size=1, num_workers=2,
                           dataset=dict(u4k_infer, split='./data/u4k/splits/test_out.txt'))
