# CityScapes (official layout plus the extra set) under data/cityscapes (docs/data.md). Depth range 1 mm to 250 m.
cs_range = dict(min_depth=1e-3, max_depth=250)

train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    dataset=dict(
        type='CityScapesDataset', mode='train', data_root='./data/cityscapes',
        split='./data/cityscapes/train.txt', **cs_range,
        transform_cfg=dict(degree=1.0, random_crop=True, random_crop_size=[256, 512],
                           network_process_size=[384, 512])))

val_dataloader = dict(
    batch_size=1,
    num_workers=1,
    dataset=dict(
        type='CityScapesDataset', mode='infer', data_root='./data/cityscapes',
        split='./data/cityscapes/val.txt', with_seg_map=True, **cs_range,
        transform_cfg=dict(degree=1.0, network_process_size=[384, 512])))
