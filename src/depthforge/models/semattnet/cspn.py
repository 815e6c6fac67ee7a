"""CSPN++ propagation (SemAttNet / PENet head), written for speed and low memory.

Reference semantics (the reference's "scatter" convention).  For kernel size ``k`` (``c = (k-1)/2``) and a guide
``G`` with ``k*k-1`` generated channels plus the centre weight ``G_c``, one step is::

    out(p) = G_c(p) * h0(p) + sum_{o in [-c, c]^2, o != 0}  G_{t(o)}(p + o) * h(p + o)

with ``t(o) = (c - o_y) * k + (c - o_x)`` the raw kernel index (generated channel ``t`` for ``t`` below the centre
index, ``t - 1`` above it) and zero padding outside the image.  The reference materialises ``k*k`` zero-padded
shifted copies of the guide and of the depth at every step (90 steps per forward).

Here the guide is shifted once per forward into *gather* form, ``Gs_t(p) = G_t(p + o_t)``, so that a step is::

    out = G_c * h0 + sum_t Gs_t * shift_t(h)        (shift_t(h)(p) = h(p + o_t), zero outside)

computed with ``k*k-1`` in-place fused multiply-adds on one output buffer; no ``k*k``-channel temporary is
created.  A whole chain of ``n`` steps with the soft sparse replacement ``h <- mask*d + (1-mask)*h`` is one
autograd node (:class:`_CSPNChain`) whose backward is written by hand: it keeps only the ``n`` inputs and ``n``
propagated maps (one channel per phase each), so training memory of the 90 propagation steps is negligible.
Several independent chains sharing a guide (the four polyphase sub-images of the dilated stage) are processed
together as channels of one tensor.

A naive reference-style implementation (:func:`cspn_step_reference`) is kept as a test oracle and for the
``bitwise_parity`` mode of the model.
"""

from __future__ import annotations

import warnings
from typing import Any, Literal

import torch
import torch.nn.functional as F

__all__ = [
    "AffinityNaNError",
    "NanPolicy",
    "cspn_chain",
    "cspn_chain_reference",
    "cspn_step",
    "cspn_step_reference",
    "kernel_offsets",
    "normalize_guide",
    "shift_guide",
]

NanPolicy = Literal["raise", "warn", "ignore"]


class AffinityNaNError(FloatingPointError):
    """The CSPN affinity normalisation produced NaN/inf (the reference has no epsilon in ``g / sum|g|``)."""


def kernel_offsets(k: int) -> list[tuple[int, int]]:
    """Offsets ``o = (o_y, o_x)`` of the ``k*k-1`` generated guide channels, in channel order."""
    if k < 1 or k % 2 == 0:
        raise ValueError(f"CSPN kernel size must be odd and positive, got {k}")
    c = (k - 1) // 2
    centre = (k * k - 1) // 2
    offs = []
    for t in range(k * k):
        if t == centre:
            continue
        i, j = divmod(t, k)
        offs.append((c - i, c - j))
    return offs


def normalize_guide(
    guide: torch.Tensor, *, nan_policy: NanPolicy = "raise", name: str = "guide"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference affinity normalisation: ``g / sum_ch |g|`` (no epsilon) and centre weight ``1 - sum g``.

    Returns ``(G, G_c)`` with ``G`` of shape ``(B, k*k-1, H, W)`` and ``G_c`` of shape ``(B, 1, H, W)``.
    The formula is reproduced exactly; pixels whose ``sum |g|`` is 0 (or not finite) give NaN, which is
    detected here and, by ``nan_policy``, raised as :class:`AffinityNaNError` (default), warned about, or
    ignored.
    """
    guide_sum = guide.abs().sum(dim=1, keepdim=True)
    if nan_policy != "ignore":
        bad = ~(torch.isfinite(guide_sum) & (guide_sum > 0))
        if bool(bad.any()):
            n_bad = int(bad.sum())
            n_zero = int((guide_sum == 0).sum())
            msg = (
                f"CSPN affinity normalisation of {name} produced NaN at {n_bad} pixel(s) "
                f"({n_zero} with an all-zero guide, sum|g| = 0; the rest non-finite features). The reference "
                "normalises without epsilon, and so does this model; check the inputs/weights "
                "(e.g. NaN/inf inputs, a collapsed guide layer)."
            )
            if nan_policy == "raise":
                raise AffinityNaNError(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
    g = torch.div(guide, guide_sum)
    g_mid = 1 - torch.sum(g, dim=1, keepdim=True)
    return g, g_mid


# --------------------------------------------------------------------------------------------------------------
# channel-wise shifts
# --------------------------------------------------------------------------------------------------------------


def _shift_into(out: torch.Tensor, src: torch.Tensor, oy: int, ox: int) -> None:
    """``out[..., y, x] = src[..., y + oy, x + ox]`` where that is inside ``src`` (other entries untouched)."""
    h, w = src.shape[-2:]
    y0, y1 = max(0, -oy), min(h, h - oy)
    x0, x1 = max(0, -ox), min(w, w - ox)
    if y1 > y0 and x1 > x0:
        out[..., y0:y1, x0:x1] = src[..., y0 + oy : y1 + oy, x0 + ox : x1 + ox]


class _ShiftChannels(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, offsets: tuple[tuple[int, int], ...]) -> torch.Tensor:  # type: ignore[override]
        ctx.offsets = offsets
        out = torch.zeros_like(x, memory_format=torch.contiguous_format)
        for m, (oy, ox) in enumerate(offsets):
            _shift_into(out[:, m], x[:, m], oy, ox)
        return out

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        out = torch.zeros_like(grad, memory_format=torch.contiguous_format)
        for m, (oy, ox) in enumerate(ctx.offsets):
            _shift_into(out[:, m], grad[:, m], -oy, -ox)
        return out, None


def shift_guide(g: torch.Tensor, k: int) -> torch.Tensor:
    """Gather-form guide: channel ``t`` becomes ``Gs_t(p) = G_t(p + o_t)`` (zero where ``p + o_t`` is outside)."""
    if g.shape[1] != k * k - 1:
        raise ValueError(f"guide for k={k} must have {k * k - 1} channels, got {g.shape[1]}")
    return _ShiftChannels.apply(g, tuple(kernel_offsets(k)))


# --------------------------------------------------------------------------------------------------------------
# fast propagation
# --------------------------------------------------------------------------------------------------------------


def _propagate(
    gs: torch.Tensor, c0: torch.Tensor, x: torch.Tensor, offsets: list[tuple[int, int]], c: int
) -> torch.Tensor:
    """``c0 + sum_t gs_t * shift_t(x)`` (no autograd)."""
    h, w = x.shape[-2:]
    y = c0.clone(memory_format=torch.contiguous_format) if c0.shape == x.shape else (c0 + torch.zeros_like(x))
    xp = F.pad(x, (c, c, c, c))
    for m, (oy, ox) in enumerate(offsets):
        y.addcmul_(gs[:, m : m + 1], xp[:, :, c + oy : c + oy + h, c + ox : c + ox + w])
    return y


class _CSPNChain(torch.autograd.Function):
    """``n_iter`` × (propagation step, soft sparse replacement) as one autograd node."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        gs: torch.Tensor,
        c0: torch.Tensor,
        x0: torch.Tensor,
        md: torch.Tensor,
        om: torch.Tensor,
        k: int,
        n_iter: int,
    ) -> torch.Tensor:
        offsets = kernel_offsets(k)
        c = (k - 1) // 2
        keep = any(ctx.needs_input_grad[:5])
        xs: list[torch.Tensor] = []
        ys: list[torch.Tensor] = []
        x = x0
        for _ in range(n_iter):
            y = _propagate(gs, c0, x, offsets, c)
            if keep:
                xs.append(x)
                ys.append(y)
            x = md + om * y
        if keep:
            ctx.save_for_backward(gs, md, om, *xs, *ys)
        ctx.k, ctx.n_iter = k, n_iter
        ctx.shapes = (c0.shape, md.shape, om.shape)
        return x

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor):  # type: ignore[override]
        n = ctx.n_iter
        saved = ctx.saved_tensors
        gs, _md, om = saved[:3]
        xs, ys = saved[3 : 3 + n], saved[3 + n : 3 + 2 * n]
        k = ctx.k
        c = (k - 1) // 2
        offsets = kernel_offsets(k)
        c0_shape, md_shape, om_shape = ctx.shapes
        need_gs, need_c0, need_x0, need_md, need_om = ctx.needs_input_grad[:5]
        h, w = grad_out.shape[-2:]
        g = grad_out.contiguous()
        g_gs = torch.zeros_like(gs) if need_gs else None
        g_c0 = None
        g_md = None
        g_om = None
        for i in range(n - 1, -1, -1):
            x_i, y_i = xs[i], ys[i]
            # x_{i+1} = md + om * y_i
            if need_md:
                g_md = g.clone() if g_md is None else g_md.add_(g)
            if need_om:
                t = g * y_i
                g_om = t if g_om is None else g_om.add_(t)
            gy = g * om
            if need_c0:
                g_c0 = gy.clone() if g_c0 is None else g_c0.add_(gy)
            # y_i = c0 + sum_t gs_t * shift_t(x_i)
            if need_gs:
                xp = F.pad(x_i, (c, c, c, c))
                for m, (oy, ox) in enumerate(offsets):
                    xsl = xp[:, :, c + oy : c + oy + h, c + ox : c + ox + w]
                    if gy.shape[1] == 1:
                        g_gs[:, m : m + 1].addcmul_(gy, xsl)
                    else:
                        g_gs[:, m : m + 1].add_((gy * xsl).sum(dim=1, keepdim=True))
            if i > 0 or need_x0:
                gxp = gy.new_zeros(gy.shape[:-2] + (h + 2 * c, w + 2 * c))
                for m, (oy, ox) in enumerate(offsets):
                    gxp[:, :, c + oy : c + oy + h, c + ox : c + ox + w].addcmul_(gs[:, m : m + 1], gy)
                g = gxp[:, :, c : c + h, c : c + w].contiguous()
        return (
            g_gs,
            None if g_c0 is None else _reduce_to(g_c0, c0_shape),
            g if need_x0 else None,
            None if g_md is None else _reduce_to(g_md, md_shape),
            None if g_om is None else _reduce_to(g_om, om_shape),
            None,
            None,
        )


def _reduce_to(t: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """Sum a broadcast gradient back to ``shape``."""
    if t.shape == shape:
        return t
    dims = [i for i, (a, b) in enumerate(zip(t.shape, shape)) if b == 1 and a != 1]
    return t.sum(dim=dims, keepdim=True)


def cspn_chain(
    gs: torch.Tensor,
    g_centre: torch.Tensor,
    h0: torch.Tensor,
    mask: torch.Tensor,
    d: torch.Tensor,
    k: int,
    n_iter: int = 6,
    x0: torch.Tensor | None = None,
) -> torch.Tensor:
    """Run ``n_iter`` CSPN++ steps from ``x0`` (default ``h0``) with sparse replacement.

    Args:
        gs: gather-form guide from :func:`shift_guide`, ``(B, k*k-1, H, W)``.
        g_centre: centre weight ``(B, 1, H, W)``.
        h0: anchor depth(s), ``(B, P, H, W)``: ``P`` independent chains that share guide, mask and ``d``.
        mask, d: ``(B, 1, H, W)``; every step ends with ``h <- mask*d + (1-mask)*h``.
    """
    if x0 is None:
        x0 = h0
    c0 = g_centre * h0
    md = mask * d
    om = 1 - mask
    return _CSPNChain.apply(gs, c0, x0, md, om, k, n_iter)


def cspn_step(
    gs: torch.Tensor, g_centre: torch.Tensor, h: torch.Tensor, h0: torch.Tensor, k: int
) -> torch.Tensor:
    """One propagation step in gather form (differentiable through plain autograd; mainly for tests)."""
    offsets = kernel_offsets(k)
    c = (k - 1) // 2
    hh, ww = h.shape[-2:]
    xp = F.pad(h, (c, c, c, c))
    out = g_centre * h0
    for m, (oy, ox) in enumerate(offsets):
        out = out + gs[:, m : m + 1] * xp[:, :, c + oy : c + oy + hh, c + ox : c + ox + ww]
    return out


# --------------------------------------------------------------------------------------------------------------
# naive reference-style implementation (oracle)
# --------------------------------------------------------------------------------------------------------------


def _pad_canvas(x: torch.Tensor, t: int, k: int) -> torch.Tensor:
    i, j = divmod(t, k)
    return F.pad(x, (j, k - 1 - j, i, k - 1 - i))


def cspn_step_reference(
    g: torch.Tensor, g_centre: torch.Tensor, hn: torch.Tensor, h0: torch.Tensor, k: int
) -> torch.Tensor:
    """Reference-style step: ``k*k`` zero-padded shifted copies of guide and depth, product, channel sum, crop.

    ``g`` is the normalised guide in generated-channel order (``k*k-1`` channels).  ``hn``/``h0`` may carry
    several independent chains in the batch dimension only (``(B, 1, H, W)``).  Slow; test oracle only.
    """
    c = (k - 1) // 2
    centre = (k * k - 1) // 2
    wpad, hpad = [], []
    for t in range(k * k):
        if t < centre:
            wpad.append(_pad_canvas(g[:, t : t + 1], t, k))
        elif t > centre:
            wpad.append(_pad_canvas(g[:, t - 1 : t], t, k))
        else:
            wpad.append(_pad_canvas(g_centre, t, k))
        hpad.append(_pad_canvas(h0 if t == centre else hn, t, k))
    weight = torch.cat(wpad, dim=1)
    vals = torch.cat(hpad, dim=1)
    out = torch.sum(weight.mul(vals), dim=1)
    out = out[:, c : out.shape[1] - c, c : out.shape[2] - c]
    return out.unsqueeze(1)


def cspn_chain_reference(
    g: torch.Tensor,
    g_centre: torch.Tensor,
    h0: torch.Tensor,
    mask: torch.Tensor,
    d: torch.Tensor,
    k: int,
    n_iter: int = 6,
    x0: torch.Tensor | None = None,
) -> torch.Tensor:
    """Naive chain: same contract as :func:`cspn_chain` but with the un-shifted guide ``g``."""
    x = h0 if x0 is None else x0
    outs = []
    for p in range(h0.shape[1]):
        xp, h0p = x[:, p : p + 1], h0[:, p : p + 1]
        for _ in range(n_iter):
            xp = cspn_step_reference(g, g_centre, xp, h0p, k)
            xp = mask * d + (1 - mask) * xp
        outs.append(xp)
    return torch.cat(outs, dim=1)
