"""ZoeDepth's metric bins head: seed bins, attractor refinement and the conditional log-binomial.

Module names reproduce the official checkpoints (``_net``, ``mlp``, ``log_binomial_transform``). Only the
variant ZoeDepth-N uses is implemented: unbounded (softplus) bin centres, inverse attractors averaged over
the attractor points, log-binomial output distribution.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "Attractor", "ConditionalLogBinomial", "LogBinomial", "Projector", "SeedBinRegressor", "inv_attractor",
]


def _resize(x: torch.Tensor, size: tuple[int, int] | torch.Size) -> torch.Tensor:
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)


class SeedBinRegressor(nn.Module):
    """``n_bins`` positive bin centres per pixel (softplus output, no depth range)."""

    def __init__(self, in_features: int, n_bins: int, mlp_dim: int) -> None:
        super().__init__()
        self._net = nn.Sequential(nn.Conv2d(in_features, mlp_dim, 1), nn.ReLU(),
                                  nn.Conv2d(mlp_dim, n_bins, 1), nn.Softplus())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._net(x)


class Projector(nn.Module):
    """Two 1x1 convolutions with a ReLU between: a bin embedding."""

    def __init__(self, in_features: int, out_features: int, mlp_dim: int) -> None:
        super().__init__()
        self._net = nn.Sequential(nn.Conv2d(in_features, mlp_dim, 1), nn.ReLU(),
                                  nn.Conv2d(mlp_dim, out_features, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._net(x)


def inv_attractor(dx: torch.Tensor, alpha: float, gamma: int) -> torch.Tensor:
    """Shift of a bin centre towards an attractor ``dx`` away: ``dx / (1 + alpha * dx^gamma)``."""
    return dx.div(1 + alpha * dx.pow(gamma))


class Attractor(nn.Module):
    """Moves the previous level's bin centres towards ``n_attractors`` points predicted per pixel.

    ``alpha`` and ``gamma`` default to what the reference computes with: its attractor layers receive the
    configured ``attractor_alpha`` (1000 in every ZoeDepth-N config) but call the attractor function with
    its defaults, 300 and 2.
    """

    def __init__(self, in_features: int, n_attractors: int, mlp_dim: int, *, alpha: float = 300.0,
                 gamma: int = 2) -> None:
        super().__init__()
        self.alpha = float(alpha)
        self.gamma = int(gamma)
        self._net = nn.Sequential(nn.Conv2d(in_features, mlp_dim, 1), nn.ReLU(),
                                  nn.Conv2d(mlp_dim, n_attractors, 1), nn.Softplus())

    def forward(self, emb: torch.Tensor, centres: torch.Tensor, prev_emb: torch.Tensor) -> torch.Tensor:
        """New bin centres at ``emb``'s resolution (previous centres and embedding resized to it)."""
        points = self._net(emb + _resize(prev_emb, emb.shape[-2:]))
        centres = _resize(centres, points.shape[-2:])
        # All attractors at once, then the mean (the reference's default, non-chunked path).
        shifts = inv_attractor(points.unsqueeze(2) - centres.unsqueeze(1), self.alpha, self.gamma)
        delta = torch.mean(shifts, dim=1)
        return centres + delta


class LogBinomial(nn.Module):
    """Softmax over ``K`` classes of a log-binomial with success probability ``p`` and temperature ``t``.

    ``log C(K-1, k)`` uses the reference's Stirling-like form ``n log n - k log k - (n-k) log(n-k+eps)``
    (with ``eps = 1e-7`` added to n and k).
    """

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.K = n_classes
        self.register_buffer("k_idx", torch.arange(0, n_classes).view(1, -1, 1, 1))
        self.register_buffer("K_minus_1", torch.tensor([float(n_classes - 1)]).view(1, -1, 1, 1))

    @staticmethod
    def _log_binom(n: torch.Tensor, k: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
        n = n + eps
        k = k + eps
        return n * torch.log(n) - k * torch.log(k) - (n - k) * torch.log(n - k + eps)

    def forward(self, p: torch.Tensor, t: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
        if p.ndim == 3:
            p = p.unsqueeze(1)
        q = torch.clamp(1 - p, eps, 1)
        p = torch.clamp(p, eps, 1)
        k = self.k_idx
        y = self._log_binom(self.K_minus_1, k) + k * torch.log(p) + (self.K - 1 - k) * torch.log(q)
        return torch.softmax(y / t, dim=1)


class ConditionalLogBinomial(nn.Module):
    """Per-pixel bin probabilities from features and a condition: an MLP predicts (p, t) of a log-binomial."""

    def __init__(self, in_features: int, condition_dim: int, n_classes: int, *, min_temp: float,
                 max_temp: float, p_eps: float = 1e-4) -> None:
        super().__init__()
        self.p_eps = p_eps
        self.min_temp = min_temp
        self.max_temp = max_temp
        self.log_binomial_transform = LogBinomial(n_classes)
        hidden = (in_features + condition_dim) // 2
        self.mlp = nn.Sequential(nn.Conv2d(in_features + condition_dim, hidden, 1), nn.GELU(),
                                 nn.Conv2d(hidden, 4, 1), nn.Softplus())

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        # The 1x1 convolutions are a per-pixel MLP: as linear layers over the channels of NHWC views they run at
        # matmul speed (oneDNN's channels-first 1x1 kernel took about 3x longer at 384 x 512 on CPUs).
        first, act, second, out_act = self.mlp
        h = torch.cat((x.permute(0, 2, 3, 1), cond.permute(0, 2, 3, 1)), dim=3)
        h = act(F.linear(h, first.weight.flatten(1), first.bias))
        pt = out_act(F.linear(h, second.weight.flatten(1), second.bias)).permute(0, 3, 1, 2)
        p = pt[:, :2] + self.p_eps
        p = p[:, 0] / (p[:, 0] + p[:, 1])
        t = pt[:, 2:] + self.p_eps
        t = (t[:, 0] / (t[:, 0] + t[:, 1])).unsqueeze(1)
        t = (self.max_temp - self.min_temp) * t + self.min_temp
        return self.log_binomial_transform(p, t)
