"""KITTI depth-completion metrics: protocols ``kitti-penet`` and ``kitti-devkit``.

Key names and units (identical for both protocols so tables can be compared side by side):

===============  =====================================================================
key              meaning
===============  =====================================================================
rmse, mae        millimetres
mse              millimetres squared
irmse, imae      1/km (inverse depth in 1/km)
absrel           mean |pred - gt| / gt
squared_rel      mean (|pred - gt| / gt)^2 (KITTI definition; *not* PatchRefiner's sq_rel)
lg10             mean |log10 pred - log10 gt|
delta1..3        fraction of pixels with max(pred/gt, gt/pred) < 1.25, 1.25^2, 1.25^3
silog            100 * sqrt(mean e^2 - (mean e)^2), e = ln gt - ln pred
n_valid          number of scored GT pixels
n_nonpositive    predictions <= 0 (or -inf) anywhere in the map, before any hole filling
n_nonfinite      NaN or +-inf predictions anywhere in the map
===============  =====================================================================

``kitti-devkit`` additionally reports the devkit's own fields, in the devkit's own units:
``devkit_mae``, ``devkit_rmse`` (metres), ``devkit_imae``, ``devkit_irmse`` (1/m), ``devkit_log_mae``,
``devkit_log_rmse`` (natural log), ``devkit_silog`` (sqrt of the log variance, **no** x100),
``devkit_abs_rel`` and ``devkit_sq_rel`` (squared error over gt^2).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from depthforge.errors import DataError
from depthforge.metrics._arrays import ArrayLike, as_batch, check_same_size

KITTI_KEYS: tuple[str, ...] = (
    "rmse", "mae", "irmse", "imae", "mse", "absrel", "squared_rel", "lg10", "delta1", "delta2", "delta3", "silog",
)
DEVKIT_KEYS: tuple[str, ...] = (
    "devkit_mae", "devkit_rmse", "devkit_imae", "devkit_irmse", "devkit_log_mae", "devkit_log_rmse",
    "devkit_silog", "devkit_abs_rel", "devkit_sq_rel",
)

# PENet/SemAttNet ignore GT at or below this depth (metres).
PENET_MIN_GT = 0.1


def _prev_next_valid(valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column index of the nearest valid pixel at or left of / at or right of each pixel, per row.

    Missing neighbours are reported as -1 (left) and ``W`` (right). Running max/min of masked indices
    handle a whole image without Python loops.
    """
    w = valid.shape[1]
    idx = np.arange(w, dtype=np.int32)[None, :]
    prev = np.maximum.accumulate(np.where(valid, idx, np.int32(-1)), axis=1)
    nxt = np.minimum.accumulate(np.where(valid, idx, np.int32(w))[:, ::-1], axis=1)[:, ::-1]
    return prev, nxt


def devkit_fill(pred: ArrayLike, valid: ArrayLike | None = None) -> np.ndarray:
    """Densify a prediction exactly like the KITTI devkit's ``interpolateBackground``.

    Args:
        pred: (H, W) depth map in metres.
        valid: optional boolean mask of valid predictions; default ``pred > 0`` (a 16-bit PNG value of 0
            decodes to "invalid"; NaN and negative values are treated as missing as well).

    Returns:
        float32 (H, W) map. Per row, runs of invalid pixels with valid pixels on both sides take the
        smaller of the two neighbours; pixels before the first / after the last valid pixel of a row copy
        it. Then per column the same end extrapolation fills rows that had no valid pixel *above the first
        or below the last* valid row; an all-invalid row between valid rows stays invalid, like the devkit.
        Pixels that remain invalid are -1 (the devkit scores them as -1 m).
    """
    d = as_batch(pred, "pred")
    if d.shape[0] != 1:
        raise DataError("pred", "devkit_fill takes a single map")
    d = d[0].astype(np.float32)
    v = (d > 0) if valid is None else as_batch(valid, "valid")[0].astype(bool)
    check_same_size(d, v, "valid", "pred")
    out = np.where(v, d, np.float32(-1.0)).astype(np.float32)
    row_has_hole = ~v.all(axis=1)
    if not row_has_hole.any():
        return out  # dense prediction: nothing to fill

    # Row pass on the rows with holes: interior runs take min(left, right); row ends copy the end values.
    sub_v, sub = v[row_has_hole], out[row_has_hole]
    prev, nxt = _prev_next_valid(sub_v)
    w = sub.shape[1]
    has_prev, has_next = prev >= 0, nxt < w
    left = np.take_along_axis(sub, np.clip(prev, 0, w - 1), axis=1)
    right = np.take_along_axis(sub, np.clip(nxt, 0, w - 1), axis=1)
    fill = np.where(has_prev & has_next, np.minimum(left, right), np.where(has_prev, left, right))
    out[row_has_hole] = np.where(~sub_v & (has_prev | has_next), fill, sub)

    # Column pass. After the row pass every row is either fully valid or fully invalid, so the devkit's
    # per-column top/bottom extrapolation reduces to copying the first/last valid row.
    good = np.flatnonzero(v.any(axis=1))
    if good.size:
        out[: good[0]] = out[good[0]]
        out[good[-1] + 1:] = out[good[-1]]
    return out


def _penet_one(pred: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """SemAttNet/PENet ``Result.evaluate`` on one image, in float32 like the reference."""
    m = gt > PENET_MIN_GT
    if not m.any():  # no ground truth in this image (e.g. a crop): every metric is NaN, without a warning
        return {**dict.fromkeys(KITTI_KEYS, float("nan")), "n_valid": 0.0}
    p = pred[m].astype(np.float32)
    g = gt[m].astype(np.float32)
    p_mm, g_mm = np.float32(1e3) * p, np.float32(1e3) * g
    diff = np.abs(p_mm - g_mm)
    # A tiny positive prediction overflows 1/p squared in float32: inf, as in the reference, and the tables
    # footnote it, so no warning per image.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mse = float(np.mean(diff**2))
        rel = diff / g_mm
        ratio = np.maximum(p_mm / g_mm, g_mm / p_mm)
        e = np.log(g) - np.log(p)
        inv = np.abs(np.float32(1.0) / (np.float32(1e-3) * p) - np.float32(1.0) / (np.float32(1e-3) * g))
        silog_var = float(np.mean(e**2) - np.mean(e) ** 2)
        return {
            "rmse": float(np.sqrt(mse)),
            "mae": float(np.mean(diff)),
            "irmse": float(np.sqrt(float(np.mean(inv**2)))),
            "imae": float(np.mean(inv)),
            "mse": mse,
            "absrel": float(np.mean(rel)),
            "squared_rel": float(np.mean(rel**2)),
            "lg10": float(np.mean(np.abs(np.log10(p_mm) - np.log10(g_mm)))),
            # the reference averages float32 0/1 values, so the fraction is rounded to float32
            "delta1": float(np.float32(np.mean(ratio < 1.25))),
            "delta2": float(np.float32(np.mean(ratio < 1.25**2))),
            "delta3": float(np.float32(np.mean(ratio < 1.25**3))),
            "silog": float(np.sqrt(silog_var)) * 100.0 if silog_var >= 0 else float("nan"),
            "n_valid": float(m.sum()),
        }


def _seq_sum32(x: np.ndarray) -> np.float32:
    """Sequential float32 sum (a C ``float`` running sum); ``np.sum`` is pairwise and rounds differently."""
    return np.add.accumulate(x, dtype=np.float32)[-1] if x.size else np.float32(0.0)


def _devkit_errors32(p: np.ndarray, g: np.ndarray) -> dict[str, np.float32]:
    """``depthError`` of ``evaluate_depth.cpp`` operation by operation, in float32.

    ``p`` and ``g`` are the filled prediction and the GT at valid GT pixels, in the devkit's pixel order
    (column by column). The devkit keeps ``float`` running sums; only ``1/gt - 1/pred`` is evaluated in
    double (``1.0 / depth``) before being stored as ``float``. Logarithms are taken in float64 and rounded
    to float32, the closest portable stand-in for C's ``logf``.
    """
    f32 = np.float32
    n = f32(max(p.size, 1))  # no GT: zeros like the float64 path (the devkit itself aborts)
    with np.errstate(divide="ignore", invalid="ignore"):
        d_err = np.abs(g - p)
        d_sq = d_err * d_err
        d_inv = np.abs(1.0 / g.astype(np.float64) - 1.0 / p.astype(np.float64)).astype(f32)
        ld = np.log(g.astype(np.float64)).astype(f32) - np.log(p.astype(np.float64)).astype(f32)
        d_log = np.abs(ld)
        sq_log = _seq_sum32(d_log * d_log) / n
        return {
            "devkit_mae": _seq_sum32(d_err) / n,
            "devkit_rmse": np.sqrt(_seq_sum32(d_sq) / n),
            "devkit_imae": _seq_sum32(d_inv) / n,
            "devkit_irmse": np.sqrt(_seq_sum32(d_inv * d_inv) / n),
            "devkit_log_mae": _seq_sum32(d_log) / n,
            "devkit_log_rmse": np.sqrt(sq_log),
            "devkit_silog": np.sqrt(sq_log - _seq_sum32(ld) * _seq_sum32(ld) / (n * n)),
            "devkit_abs_rel": _seq_sum32(d_err / g) / n,
            "devkit_sq_rel": _seq_sum32(d_sq / (g * g)) / n,
        }


def _devkit_one(pred: np.ndarray, gt: np.ndarray, accumulate: str = "float64") -> dict[str, float]:
    """Official devkit errors on one image (after ``devkit_fill``), plus the common keys."""
    filled = devkit_fill(pred)
    m = gt > 0
    p = filled[m].astype(np.float64)
    g = gt[m].astype(np.float64)
    n = max(int(m.sum()), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        diff = np.abs(g - p)
        inv = np.abs(1.0 / g - 1.0 / p)
        e = np.log(g) - np.log(p)
        ratio = np.maximum(p / g, g / p)
        mae, mse = diff.sum() / n, (diff**2).sum() / n
        imae, imse = inv.sum() / n, (inv**2).sum() / n
        log_mae, log_mse = np.abs(e).sum() / n, (e**2).sum() / n
        silog = np.sqrt(log_mse - (e.sum() / n) ** 2)
        abs_rel, sq_rel = (diff / g).sum() / n, (diff**2 / g**2).sum() / n
        out = {
            "rmse": float(np.sqrt(mse) * 1e3),
            "mae": float(mae * 1e3),
            "irmse": float(np.sqrt(imse) * 1e3),
            "imae": float(imae * 1e3),
            "mse": float(mse * 1e6),
            "absrel": float(abs_rel),
            "squared_rel": float(sq_rel),
            "lg10": float(np.abs(np.log10(p) - np.log10(g)).sum() / n),
            "delta1": float((ratio < 1.25).sum() / n),
            "delta2": float((ratio < 1.25**2).sum() / n),
            "delta3": float((ratio < 1.25**3).sum() / n),
            "silog": float(silog * 100.0),
            "n_valid": float(m.sum()),
            "devkit_mae": float(mae),
            "devkit_rmse": float(np.sqrt(mse)),
            "devkit_imae": float(imae),
            "devkit_irmse": float(np.sqrt(imse)),
            "devkit_log_mae": float(log_mae),
            "devkit_log_rmse": float(np.sqrt(log_mse)),
            "devkit_silog": float(silog),
            "devkit_abs_rel": float(abs_rel),
            "devkit_sq_rel": float(sq_rel),
        }
    if accumulate == "float32":
        # The devkit visits pixels column by column (u outer, v inner): transpose before masking.
        e32 = _devkit_errors32(filled.T[m.T], gt.T[m.T].astype(np.float32))
        out.update({k: float(v) for k, v in e32.items()})
        out.update({
            "rmse": out["devkit_rmse"] * 1e3, "mae": out["devkit_mae"] * 1e3,
            "irmse": out["devkit_irmse"] * 1e3, "imae": out["devkit_imae"] * 1e3,
            "mse": out["devkit_rmse"] ** 2 * 1e6, "absrel": out["devkit_abs_rel"],
            "squared_rel": out["devkit_sq_rel"], "silog": out["devkit_silog"] * 100.0,
        })
    return out


def kitti_completion(
    pred: ArrayLike, gt: ArrayLike,
    protocol: Literal["kitti-penet", "kitti-devkit", "penet", "devkit"] = "kitti-penet",
    accumulate: Literal["float64", "float32"] = "float64",
) -> dict[str, float]:
    """KITTI depth-completion metrics of one image or the per-image mean of a batch.

    Args:
        pred: prediction in metres, (H, W), (1, 1, H, W) or (B, 1, H, W); never resized (sizes must match).
        gt: ground truth in metres, same shape; 0 = no measurement.
        protocol: ``"kitti-penet"`` (gt > 0.1 m, no hole filling, no clamping, float32) or
            ``"kitti-devkit"`` (gt > 0, prediction densified by :func:`devkit_fill` first), the names the
            command line and configs use; the short forms ``"penet"`` / ``"devkit"`` are accepted too.
        accumulate: ``kitti-devkit`` only. ``"float64"`` (default) sums errors in float64. ``"float32"``
            repeats the compiled devkit's arithmetic: float32 running sums in its pixel order (column by
            column), and for a batch a float32 running mean of the ``devkit_*`` keys over images, so the
            devkit's printed ``%f`` numbers are reproduced digit for digit (the two modes differ by float32
            rounding, below 3e-4 relative). The common keys other than lg10/delta follow the float32 values.

    Returns:
        dict of Python floats, keys and units as in the module docstring. For a batch every key is the
        plain mean over images (the references' ``AverageMeter`` / devkit convention).
    """
    short = protocol.removeprefix("kitti-")
    if short not in ("penet", "devkit"):
        raise DataError("protocol", f"unknown KITTI protocol {protocol!r}; expected 'kitti-penet' or "
                        "'kitti-devkit'")
    if accumulate not in ("float64", "float32"):
        raise DataError("accumulate", f"expected 'float64' or 'float32', got {accumulate!r}")
    if accumulate == "float32" and short != "devkit":
        raise DataError("accumulate", "accumulate='float32' reproduces the devkit; use protocol='kitti-devkit'")
    p = as_batch(pred, "pred")
    g = as_batch(gt, "gt")
    if p.shape != g.shape:
        raise DataError("pred", f"shape {p.shape[1:]} (batch {p.shape[0]}) does not match gt {g.shape[1:]} "
                        f"(batch {g.shape[0]}); KITTI protocols never resize")
    per_image = []
    for pi, gi in zip(p, g):  # loop over images only; each image is fully vectorised
        r = _penet_one(pi, gi) if short == "penet" else _devkit_one(pi, gi, accumulate)
        r["n_nonpositive"] = float(np.count_nonzero(~(pi > 0) & ~np.isnan(pi)))
        r["n_nonfinite"] = float(np.count_nonzero(~np.isfinite(pi)))
        per_image.append(r)
    if len(per_image) == 1:
        return per_image[0]
    out = {k: float(np.mean([r[k] for r in per_image])) for k in per_image[0]}
    if accumulate == "float32":
        # the devkit's statMean: float running sum over images in order, divided by (float)count
        for k in DEVKIT_KEYS:
            out[k] = float(_seq_sum32(np.array([r[k] for r in per_image], np.float32)) / np.float32(len(per_image)))
    return out
