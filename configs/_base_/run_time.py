# Process settings of the reference's launcher; depthforge chooses NCCL or gloo by the device itself.
env_cfg = dict(cudnn_benchmark=True, mp_cfg=dict(mp_start_method='forkserver'), dist_cfg=dict(backend='nccl'))
