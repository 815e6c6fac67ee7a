# Reduced sizes for the *_tiny.py twins: a small ZoeDepth (both branches), a small process shape and a few
# samples per epoch, so that every stage of the guide runs on a laptop CPU in minutes.
tiny_zoe = dict(embed_dim=32, depth=4, num_heads=2, pretrain_grid=4, num_classes=10,
                reassemble_channels=[8, 16, 32, 32], features=16, head_features=8, n_bins=8,
                bin_embedding_dim=8)
tiny_process_shape = [64, 96]
depthforge = dict(data=dict(max_train_samples=2, max_val_samples=1, workers=0, val_workers=0))
