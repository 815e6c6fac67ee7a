# The teacher-student stage with the edge-guided ranking loss instead of the SSI loss.
_base_ = ['./pr_ssi_midas_cs.py']

model = dict(
    edgeloss=dict(_delete_=True, type='EdgeguidedRankingLoss', min_depth=1e-3, max_depth=250, alpha=1,
                  reweight_target=False, only_missing_area=False, point_pairs=10000))
