"""Strict JSON files: NaN and infinities, which JSON has no tokens for, are written as null and listed."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from depthforge.io.png import PathLike

NULL_NOTE = "null_values"


def _strict(obj: Any, where: str, nulls: dict[str, str]) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        nulls[where] = str(obj)  # 'nan', 'inf' or '-inf'
        return None
    if isinstance(obj, dict):
        return {k: _strict(v, f"{where}.{k}" if where else str(k), nulls) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v, f"{where}[{i}]", nulls) for i, v in enumerate(obj)]
    return obj


def write_json(path: PathLike, obj: Any) -> Path:
    """Write ``obj`` as strict JSON. Non-finite numbers become null; a top-level dict then gains
    ``null_values``, mapping each such key to what it held (``nan``: no valid pixel, ``inf``: a division
    by a zero prediction), so that a reader knows why."""
    nulls: dict[str, str] = {}
    data = _strict(obj, "", nulls)
    if nulls and isinstance(data, dict):
        data[NULL_NOTE] = nulls
    out = Path(path)
    out.write_text(json.dumps(data, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return out


__all__ = ["NULL_NOTE", "write_json"]
