# ZoeDepth-N as PatchRefiner configures both branches (architecture of the published weights).
# attractor_alpha is recorded as the reference records it; its attractors apply 300 (docs/patchrefiner_tools.md).
zoe_depth_config = dict(
    type='ZoeDepth',
    midas_model_type='DPT_BEiT_L_384',
    pretrained_resource=None,
    n_bins=64,
    bin_embedding_dim=128,
    bin_centers_type='softplus',
    n_attractors=[16, 8, 4, 1],
    attractor_alpha=1000,
    attractor_gamma=2,
    attractor_kind='mean',
    attractor_type='inv',
    min_temp=0.0212,
    max_temp=50.0,
    output_distribution='logbinomial',
    img_size=[384, 512],
    do_resize=False,
    force_keep_ar=True,
    memory_efficient=True,
)
