# pr_ranking_cs.py at reduced size: pr_ssi_midas_cs_tiny.py with the ranking loss of pr_ranking_cs.py.
_base_ = ['./pr_ssi_midas_cs_tiny.py']

model = dict(
    edgeloss=dict(_delete_=True, type='EdgeguidedRankingLoss', min_depth=1e-3, max_depth=250, alpha=1,
                  reweight_target=False, only_missing_area=False, point_pairs=500))
