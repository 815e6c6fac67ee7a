"""ZoeDepth-N (Bhat et al., 2023): MiDaS v3.1 DPT-BEiT-L/16-384 core + metric bins head.

This is the model PatchRefiner uses for both of its branches, built as PatchRefiner's configs build it
(``n_bins 64``, softplus bin centres, ``bin_embedding_dim 128``, attractors ``[16, 8, 4, 1]`` of the
inverse kind averaged, log-binomial output with temperatures in [0.0212, 50]). The state dict has the 535
keys of an official coarse checkpoint (``core.core.pretrained.model.*``, ``conv2.*``,
``seed_bin_regressor.*``, ..., ``conditional_log_binomial.*``), with the same shapes.

Interface (stable; PatchRefiner builds its coarse and fine branches from it)
---------------------------------------------------------------------------
``ZoeDepth.forward(x, return_features=False) -> dict[str, Tensor]``

``x``: an ``N x 3 x H x W`` float image in [0, 1] (RGB), or a batch dict holding it under ``image``.
``H`` and ``W`` must be multiples of 16 (the BEiT patch); the image is normalised internally (mean 0.5,
std 0.5) and never resized. PatchRefiner feeds 384 x 512.

Always returned:

* ``depth``: metric depth, ``N x 1 x H x W``. The reference's ``metric_depth`` is computed at the
  resolution of MiDaS's last feature map, which is the input resolution, so no resize is involved.

With ``return_features=True`` also (shapes for ``H x W``; 384 x 512 in brackets):

* ``rel_depth``: MiDaS relative depth after its final ReLU, ``N x 1 x H x W``;
* ``bin_centers``: final bin centres resized to the output, ``N x n_bins x H x W`` (the reference's
  ``bin_centers`` with ``return_final_centers=True``);
* the six maps PatchRefiner's fusion network consumes (the reference's ``temp_features``), listed in
  :data:`FEATURE_KEYS` from coarse to fine:

  ==============  =========================================  ======================================
  key             reference name                             shape
  ==============  =========================================  ======================================
  ``x_d0``        ``x_d0`` (``conv2`` of the bottleneck)      ``N x 256 x H/32 x W/32`` (12 x 16)
  ``r4``          ``x_blocks_feat_0`` (``refinenet4``)        ``N x 256 x H/16 x W/16`` (24 x 32)
  ``r3``          ``x_blocks_feat_1`` (``refinenet3``)        ``N x 256 x H/8 x W/8`` (48 x 64)
  ``r2``          ``x_blocks_feat_2`` (``refinenet2``)        ``N x 256 x H/4 x W/4`` (96 x 128)
  ``r1``          ``x_blocks_feat_3`` (``refinenet1``)        ``N x 256 x H/2 x W/2`` (192 x 256)
  ``out_conv``    ``midas_final_feat`` (MiDaS head ReLU)      ``N x 32 x H x W`` (384 x 512)
  ==============  =========================================  ======================================

  (``H/32`` rounds up when ``H/16`` is odd.)

Every call computes its outputs from its own arguments: no hooks, no state shared between instances, so
a coarse and a fine ZoeDepth can run in any order in one process.

Factory: :func:`zoedepth_n` (registry name ``zoedepth_n``); its keyword arguments shrink the architecture
for tests, the defaults are the published model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from depthforge.batch import DEPTH, IMAGE
from depthforge.models.contract import ModelContract, builds
from depthforge.models.layers.beit import Beit
from depthforge.models.zoedepth.checkpoint import checkpoint_filter
from depthforge.models.zoedepth.head import Attractor, ConditionalLogBinomial, Projector, SeedBinRegressor
from depthforge.models.zoedepth.midas import DPTBeit, MidasCore

__all__ = ["FEATURE_KEYS", "ZoeDepth", "default_taps", "zoedepth_n"]

FEATURE_KEYS: tuple[str, ...] = ("x_d0", "r4", "r3", "r2", "r1", "out_conv")
"""Keys of the six feature maps returned with ``return_features=True``, coarsest first."""


def default_taps(depth: int) -> tuple[int, int, int, int]:
    """Blocks whose outputs the DPT reads: the last of each quarter (5, 11, 17, 23 for 24 blocks)."""
    if depth < 4 or depth % 4:
        raise ValueError(f"the DPT taps four evenly spaced blocks; depth {depth} is not a multiple of 4")
    q = depth // 4
    return (q - 1, 2 * q - 1, 3 * q - 1, 4 * q - 1)


def _resize(x: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)


class ZoeDepth(nn.Module):
    """ZoeDepth-N: relative-depth DPT-BEiT core, then metric bin centres and per-pixel bin probabilities.

    Architecture arguments (defaults = the published ZoeDepth-N):

    * BEiT: ``embed_dim`` 1024, ``depth`` 24, ``num_heads`` 16, ``mlp_ratio`` 4, ``pretrain_grid`` 24
      (size of the bias tables), ``num_classes`` 1000 (unused classifier), ``taps`` (default
      :func:`default_taps`);
    * DPT: ``reassemble_channels`` (256, 512, 1024, 1024), ``features`` 256, ``head_features`` 32;
    * head: ``n_bins`` 64, ``bin_embedding_dim`` 128 (also the projector and attractor MLP width; the seed
      regressor's is ``features``), ``n_attractors`` (16, 8, 4, 1), ``attractor_alpha`` 300 and
      ``attractor_gamma`` 2 (what the reference applies: its configs' ``attractor_alpha=1000`` never
      reaches the attractor function), ``min_temp`` 0.0212, ``max_temp`` 50.

    ``min_depth`` / ``max_depth`` are recorded for losses and metrics; softplus bin centres are unbounded,
    so they do not enter the forward pass (the same weights serve 80 m and 250 m configurations).
    """

    contract = ModelContract(
        task="monocular",
        inputs=(IMAGE,),
        outputs=(DEPTH,),
        input_multiple=16,
        image_range=(0.0, 1.0),
        # Never in the forward graph: the BEiT classifier, and refinenet4's first residual unit (refinenet4
        # fuses a single input). Measured with a backward pass.
        unused_parameters=(
            "core.core.pretrained.model.fc_norm.",
            "core.core.pretrained.model.head.",
            "core.core.scratch.refinenet4.resConfUnit1.",
        ),
        checkpoint_filter=checkpoint_filter,
    )

    def __init__(
        self,
        *,
        embed_dim: int = 1024,
        depth: int = 24,
        num_heads: int = 16,
        mlp_ratio: float = 4.0,
        pretrain_grid: int = 24,
        num_classes: int = 1000,
        taps: Sequence[int] | None = None,
        reassemble_channels: Sequence[int] = (256, 512, 1024, 1024),
        features: int = 256,
        head_features: int = 32,
        n_bins: int = 64,
        bin_embedding_dim: int = 128,
        n_attractors: Sequence[int] = (16, 8, 4, 1),
        attractor_alpha: float = 300.0,
        attractor_gamma: int = 2,
        min_temp: float = 0.0212,
        max_temp: float = 50.0,
        min_depth: float = 1e-3,
        max_depth: float = 80.0,
    ) -> None:
        super().__init__()
        if len(n_attractors) != 4:
            raise ValueError(f"ZoeDepth refines its bins at four levels; got n_attractors={n_attractors}")
        self.min_depth = float(min_depth)
        self.max_depth = float(max_depth)
        self.n_bins = int(n_bins)
        beit = Beit(embed_dim=embed_dim, depth=depth, num_heads=num_heads, mlp_ratio=mlp_ratio,
                    pretrain_grid=pretrain_grid, num_classes=num_classes)
        taps = default_taps(depth) if taps is None else tuple(int(t) for t in taps)
        dpt = DPTBeit(beit, taps=taps, channels=tuple(reassemble_channels), features=features,
                      head_features=head_features)
        self.core = MidasCore(dpt)
        self.conv2 = nn.Conv2d(features, features, kernel_size=1)
        self.seed_bin_regressor = SeedBinRegressor(features, n_bins, mlp_dim=features)
        self.seed_projector = Projector(features, bin_embedding_dim, mlp_dim=bin_embedding_dim)
        self.projectors = nn.ModuleList(
            Projector(features, bin_embedding_dim, mlp_dim=bin_embedding_dim) for _ in n_attractors
        )
        self.attractors = nn.ModuleList(
            Attractor(bin_embedding_dim, int(n), mlp_dim=bin_embedding_dim, alpha=attractor_alpha,
                      gamma=attractor_gamma)
            for n in n_attractors
        )
        self.conditional_log_binomial = ConditionalLogBinomial(
            head_features + 1, bin_embedding_dim, n_bins, min_temp=min_temp, max_temp=max_temp
        )

    def forward(self, x: torch.Tensor | Mapping[str, Any],
                return_features: bool = False) -> dict[str, torch.Tensor]:
        """Metric depth of an image in [0, 1] (see the module docstring for the outputs)."""
        image = x[IMAGE] if isinstance(x, Mapping) else x
        if not torch.is_tensor(image) or image.dim() != 4 or image.shape[1] != 3:
            shape = tuple(image.shape) if torch.is_tensor(image) else type(image).__name__
            raise ValueError(f"ZoeDepth expects an N x 3 x H x W image, got {shape}")
        if not image.is_floating_point():
            raise ValueError(f"ZoeDepth expects a float image in [0, 1], got {image.dtype} (divide by 255)")
        problem = self.contract.check_size(image.shape[-2], image.shape[-1])
        if problem is not None:
            raise ValueError(f"ZoeDepth: {problem}")

        midas = self.core(image)
        x_d0 = self.conv2(midas.l4_rn)
        centres = self.seed_bin_regressor(x_d0)
        prev_emb = self.seed_projector(x_d0)
        emb = prev_emb
        for projector, attractor, feat in zip(self.projectors, self.attractors, midas.blocks):
            emb = projector(feat)
            centres = attractor(emb, centres, prev_emb)
            prev_emb = emb

        rel_depth = midas.rel_depth.unsqueeze(1)
        last = torch.cat([midas.out_conv, _resize(rel_depth, midas.out_conv.shape[2:])], dim=1)
        probs = self.conditional_log_binomial(last, _resize(emb, last.shape[-2:]))
        centres = _resize(centres, probs.shape[-2:])
        depth = torch.sum(probs * centres, dim=1, keepdim=True)

        out = {DEPTH: depth}
        if return_features:
            out["rel_depth"] = rel_depth
            out["bin_centers"] = centres
            r4, r3, r2, r1 = midas.blocks
            out.update(x_d0=x_d0, r4=r4, r3=r3, r2=r2, r1=r1, out_conv=midas.out_conv)
        return out

    def reference_state_dict(self) -> dict[str, torch.Tensor]:
        """What the reference's coarse-pretraining checkpoints hold: every entry, unprefixed (535)."""
        return dict(self.state_dict())


@builds(ZoeDepth)
def zoedepth_n(**kwargs: Any) -> ZoeDepth:
    """ZoeDepth-N as PatchRefiner builds it (344,816,746 parameters, 535 state-dict entries by default)."""
    return ZoeDepth(**kwargs)
