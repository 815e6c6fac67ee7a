"""BEiT vision transformer (Bao et al., ICLR 2022) with a per-forward relative position bias.

Parameter and buffer names follow the BEiT checkpoints of timm 0.9 (``cls_token``, ``patch_embed.proj``,
``blocks.<i>.{gamma_1, gamma_2, norm1, attn.{q_bias, v_bias, relative_position_bias_table,
relative_position_index, qkv, proj}, norm2, mlp.{fc1, fc2}}``, ``fc_norm``, ``head``), so such checkpoints
load key for key. ``relative_position_index`` is a *persistent* buffer (timm >= 0.9.6 no longer stores it).

Any input whose height and width are multiples of the patch size works: each attention call resizes the
stored bias table, learnt for the pre-training grid, to the current patch grid (as MiDaS v3.1 does for its
BEiT backbones):

* the first ``(2g - 1)^2`` rows (relative offsets of a ``g x g`` pre-training grid, row offset major) are
  viewed as a ``(2g - 1) x (2g - 1)`` image per head and resized bilinearly (``align_corners=False``, no
  antialiasing) to ``(2h - 1) x (2w - 1)`` for an ``h x w`` grid;
* the three class-token rows are appended unchanged;
* the table is indexed with the relative position index of the ``h x w`` grid.

At the pre-training grid this is exactly the fixed bias of the original model. Within
:func:`reusing_position_bias` (gradients off) each layer keeps the bias it built per grid: tiled inference runs
one grid many times with the same weights, and gathering a ``heads x (hw+1)^2`` bias is about a tenth of a
ZoeDepth forward on CPUs.

``fc_norm`` and ``head`` (classification) exist for checkpoint compatibility; :meth:`Beit.forward_tokens` does
not use them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "Beit", "BeitAttention", "BeitBlock", "BeitMlp", "BeitPatchEmbed", "relative_position_index",
    "reusing_position_bias",
]


def relative_position_index(grid: tuple[int, int], device: torch.device | None = None) -> torch.Tensor:
    """Index into a bias table of ``(2h-1)(2w-1) + 3`` rows for the ``(h*w + 1)`` tokens of an ``h x w`` grid.

    Patch pair (i, j) maps to ``(dy + h - 1) * (2w - 1) + (dx + w - 1)`` with ``(dy, dx)`` = position of i
    minus position of j; class token as query -> ``R``, as key -> ``R + 1``, class to class -> ``R + 2``,
    where ``R = (2h-1)(2w-1)``.
    """
    h, w = grid
    rows, cols = torch.meshgrid(torch.arange(h, device=device), torch.arange(w, device=device), indexing="ij")
    pos = torch.stack((rows.flatten(), cols.flatten()))  # 2 x hw
    delta = pos[:, :, None] - pos[:, None, :]  # 2 x hw x hw
    patch_index = (delta[0] + h - 1) * (2 * w - 1) + (delta[1] + w - 1)
    n_offsets = (2 * h - 1) * (2 * w - 1)
    index = torch.empty(h * w + 1, h * w + 1, dtype=torch.int64, device=device)
    index[1:, 1:] = patch_index
    index[0, :] = n_offsets
    index[:, 0] = n_offsets + 1
    index[0, 0] = n_offsets + 2
    return index


class BeitPatchEmbed(nn.Module):
    """Non-overlapping ``p x p`` patches -> tokens (``proj``: convolution with stride ``p``)."""

    def __init__(self, patch_size: int = 16, in_chans: int = 3, embed_dim: int = 1024) -> None:
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class BeitMlp(nn.Module):
    """``fc2(GELU(fc1(x)))`` (exact GELU)."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class BeitAttention(nn.Module):
    """Multi-head self-attention: q/v biases (no k bias) and a relative position bias resized per grid."""

    def __init__(self, dim: int, num_heads: int, pretrain_grid: tuple[int, int]) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f"width {dim} is not a multiple of the head count {num_heads}")
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.pretrain_grid = pretrain_grid
        gh, gw = pretrain_grid
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.register_buffer("k_bias", torch.zeros(dim), persistent=False)
        self.v_bias = nn.Parameter(torch.zeros(dim))
        n_table = (2 * gh - 1) * (2 * gw - 1) + 3
        self.relative_position_bias_table = nn.Parameter(torch.zeros(n_table, num_heads))
        # Stored in the official checkpoints; the bias itself is indexed per forward for the current grid.
        self.register_buffer("relative_position_index", relative_position_index(pretrain_grid))
        self.proj = nn.Linear(dim, dim)
        self.bias_cache: dict[tuple[object, ...], torch.Tensor] | None = None  # see reusing_position_bias

    def relative_position_bias(self, grid: tuple[int, int]) -> torch.Tensor:
        """The ``1 x heads x (hw+1) x (hw+1)`` bias for an ``h x w`` patch grid (table resized to it)."""
        table = self.relative_position_bias_table
        if self.bias_cache is None or torch.is_grad_enabled():
            return self._build_position_bias(grid)
        key = (grid, table.dtype, table.device, table._version)
        bias = self.bias_cache.get(key)
        if bias is None:
            self.bias_cache.clear()  # one grid at a time: a stale entry is memory for nothing
            bias = self.bias_cache[key] = self._build_position_bias(grid)
        return bias

    def _build_position_bias(self, grid: tuple[int, int]) -> torch.Tensor:
        gh, gw = self.pretrain_grid
        table = self.relative_position_bias_table
        n_old = (2 * gh - 1) * (2 * gw - 1)
        h, w = grid
        offsets = table[:n_old].reshape(1, 2 * gh - 1, 2 * gw - 1, -1).permute(0, 3, 1, 2)
        offsets = F.interpolate(offsets, size=(2 * h - 1, 2 * w - 1), mode="bilinear", align_corners=False)
        # heads x rows: gathering along the last dimension writes the bias in its final layout, without the
        # transposing copy of a (hw+1)^2 x heads gather (once the largest cost of a forward on CPUs)
        resized = torch.cat([offsets.reshape(offsets.shape[1], -1), table[n_old:].t()], dim=1)
        n = h * w + 1
        bias = torch.index_select(resized, 1, _grid_index(grid, table.device))
        return bias.view(1, -1, n, n)

    def forward(self, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        b, n, _ = x.shape
        bias = torch.cat((self.q_bias, self.k_bias, self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        if q.dtype == torch.float64:  # verification runs: the reference's exact order of operations
            attn = ((q * self.scale) @ k.transpose(-2, -1) + self.relative_position_bias(grid)).softmax(dim=-1)
            out = attn @ v
        else:
            # softmax(q k^T * scale + bias) v in one fused kernel: a third of the time of the explicit product,
            # softmax and second product on CPUs, and no (hw+1)^2 attention matrix per head kept for
            # backward; it differs from the explicit order by float32 rounding only
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=self.relative_position_bias(grid),
                                                 scale=self.scale)
        return self.proj(out.transpose(1, 2).reshape(b, n, -1))


@contextmanager
def reusing_position_bias(module: nn.Module) -> Iterator[None]:
    """Within the block, every BEiT attention layer of ``module`` builds its position bias once per grid.

    For repeated forwards without gradients at one input size (the tiles of one image). It holds one
    ``heads x (hw+1)^2`` bias per layer (about 0.9 GB for BEiT-L at a 24 x 32 grid) until the block ends;
    a changed bias table (its version counter) rebuilds it.
    """
    layers = [m for m in module.modules() if isinstance(m, BeitAttention)]
    for layer in layers:
        layer.bias_cache = {}
    try:
        yield
    finally:
        for layer in layers:
            layer.bias_cache = None


_INDEX_CACHE: dict[tuple[int, int, str], torch.Tensor] = {}


def _grid_index(grid: tuple[int, int], device: torch.device) -> torch.Tensor:
    """The flattened :func:`relative_position_index` of a grid, shared by every layer and model."""
    key = (grid[0], grid[1], str(device))
    index = _INDEX_CACHE.get(key)
    if index is None:
        if len(_INDEX_CACHE) >= 8:  # a few grids at a time (coarse, tiles, ...)
            _INDEX_CACHE.pop(next(iter(_INDEX_CACHE)))
        with torch.inference_mode(False):  # a normal tensor: backward may save it after an inference call
            index = relative_position_index(grid, device=device).view(-1)
        _INDEX_CACHE[key] = index
    return index


class BeitBlock(nn.Module):
    """Pre-norm transformer block with layer scale (``gamma_1``, ``gamma_2``); LayerNorm eps 1e-6."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, pretrain_grid: tuple[int, int],
                 init_values: float = 1e-5) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = BeitAttention(dim, num_heads, pretrain_grid)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = BeitMlp(dim, int(dim * mlp_ratio))
        self.gamma_1 = nn.Parameter(torch.full((dim,), float(init_values)))
        self.gamma_2 = nn.Parameter(torch.full((dim,), float(init_values)))

    def forward(self, x: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
        x = x + self.gamma_1 * self.attn(self.norm1(x), grid)
        return x + self.gamma_2 * self.mlp(self.norm2(x))


class Beit(nn.Module):
    """BEiT encoder: patch embedding, class token, ``depth`` blocks; no absolute position embedding.

    The defaults are BEiT-L/16 at 384 (``beit_large_patch16_384``): width 1024, 24 blocks, 16 heads,
    pre-training grid 24 x 24.
    """

    def __init__(self, *, patch_size: int = 16, in_chans: int = 3, embed_dim: int = 1024, depth: int = 24,
                 num_heads: int = 16, mlp_ratio: float = 4.0, pretrain_grid: int | Sequence[int] = 24,
                 num_classes: int = 1000, init_values: float = 1e-5) -> None:
        super().__init__()
        grid = (pretrain_grid, pretrain_grid) if isinstance(pretrain_grid, int) else tuple(pretrain_grid)
        if len(grid) != 2:
            raise ValueError(f"pretrain_grid must be one or two sizes, got {pretrain_grid!r}")
        self.patch_size = patch_size
        self.embed_dim = embed_dim
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.patch_embed = BeitPatchEmbed(patch_size, in_chans, embed_dim)
        self.blocks = nn.ModuleList(
            BeitBlock(embed_dim, num_heads, mlp_ratio, (int(grid[0]), int(grid[1])), init_values)
            for _ in range(depth)
        )
        # Classification parts of the pre-trained model, kept so that its checkpoints load.
        self.fc_norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.head = nn.Linear(embed_dim, num_classes)

    def patch_grid(self, height: int, width: int) -> tuple[int, int]:
        """The token grid of an input of this size (a clear error when it is not a multiple of the patch)."""
        p = self.patch_size
        if height % p or width % p:
            raise ValueError(f"input size {height}x{width} is not a multiple of the patch size {p}")
        return height // p, width // p

    def forward_tokens(self, x: torch.Tensor, taps: Sequence[int]) -> list[torch.Tensor]:
        """Token sequences (``N x (1 + h*w) x C``, class token first) after the blocks listed in ``taps``.

        Runs the blocks up to the last tap only.
        """
        grid = self.patch_grid(x.shape[-2], x.shape[-1])
        wanted = sorted({int(t) for t in taps})
        if not wanted or wanted[0] < 0 or wanted[-1] >= len(self.blocks):
            raise ValueError(f"taps {list(taps)} must name blocks 0..{len(self.blocks) - 1}")
        tokens = self.patch_embed(x)
        tokens = torch.cat((self.cls_token.expand(tokens.shape[0], -1, -1), tokens), dim=1)
        found: dict[int, torch.Tensor] = {}
        for i, block in enumerate(self.blocks[: wanted[-1] + 1]):
            tokens = block(tokens, grid)
            if i in wanted:
                found[i] = tokens
        return [found[int(t)] for t in taps]
