# Sizes of the *_demo.py twins that `depthforge demo patchrefiner` trains on a laptop CPU in minutes: a small
# ZoeDepth for both branches, synthetic 256x384 frames seen by the coarse model at 64x96 and tiled 4x4 into
# 64x96 patches, so that the fine branch sees four times the coarse model's resolution.
demo_zoe = dict(embed_dim=48, depth=4, num_heads=3, pretrain_grid=4, num_classes=10,
                reassemble_channels=[12, 24, 48, 48], features=24, head_features=12, n_bins=16,
                bin_embedding_dim=16)
demo_process_shape = [64, 96]
depthforge = dict(data=dict(max_train_samples=None, max_val_samples=2, workers=0, val_workers=0))
