"""Checkpoint reading, strict loading and atomic saving.

* :func:`read_checkpoint` never executes pickled code: files are read with ``torch.load(weights_only=True)``
  plus a small allow-list for the official SemAttNet ``.pth.tar`` files, which pickle an
  ``argparse.Namespace`` (allowed as is) and a ``metrics.Result`` (mapped to :class:`ReferenceResultStub`,
  which only stores attributes).  Any other global is refused with a :class:`CheckpointError` that names the
  file and the global; corrupt or truncated files raise a :class:`CheckpointError` naming the file.
* :func:`extract_state_dict` finds the state dict (``ckpt['model']``, Lightning ``ckpt['state_dict']`` with its
  ``model.`` prefix, or a bare state dict).
* :func:`load_checkpoint` lets the model's family map the checkpoint's layout (the ``checkpoint_filter`` of
  the model's :class:`~depthforge.models.contract.ModelContract`: which keys, into which sub-module),
  verifies key sets *and* shapes, and raises a :class:`CheckpointError` listing missing / unexpected /
  mismatched keys instead of silently loading nothing (the reference loads non-strictly and can load
  nothing unnoticed).
* :func:`build_from_checkpoint` builds the model a checkpoint holds (the model recorded in a depthforge
  checkpoint's config, else the built-in family that recognises its keys) and loads it.
* :func:`save_checkpoint` writes atomically (temporary file in the same folder, fsync, ``os.replace``).
* :func:`convert_reference_checkpoint` rewrites an official checkpoint with plain containers only.

Nothing here reads meaning into key names: that is each model family's business.
"""

from __future__ import annotations

import argparse
import os
import pickle
import re
import tempfile
import warnings
from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

import torch
from torch import nn

from depthforge.errors import CheckpointError
from depthforge.models.contract import CheckpointMapping, ModelContract

__all__ = [
    "CheckpointError",
    "ReferenceResultStub",
    "build_from_checkpoint",
    "convert_reference_checkpoint",
    "extract_state_dict",
    "load_checkpoint",
    "read_checkpoint",
    "recorded_model",
    "save_checkpoint",
    "to_plain",
]

_MAX_LISTED = 8


class ReferenceResultStub:
    """Harmless stand-in for the reference ``metrics.Result`` found in official checkpoints.

    It has no behaviour: unpickling only stores the pickled attributes (``rmse``, ``mae``, ...).
    """

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, dict):
            self.__dict__.update(state)
        else:  # pragma: no cover - the reference pickles a plain __dict__
            self.__dict__["_state"] = state

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def __repr__(self) -> str:
        items = ", ".join(
            f"{k}={v!r}" for k, v in sorted(self.__dict__.items()) if isinstance(v, (int, float))
        )
        return f"ReferenceResultStub({items})"


# Globals accepted beyond torch's weights_only defaults: (object, name as written in the pickle).
_EXTRA_GLOBALS: list[tuple[Any, str]] = [
    (argparse.Namespace, "argparse.Namespace"),
    (ReferenceResultStub, "metrics.Result"),
]
_ALLOWED_NAMES = {name for _, name in _EXTRA_GLOBALS}

_GLOBAL_RE = re.compile(r"GLOBAL\s+([A-Za-z_][\w.]*)")


def _refused(path: str, names: list[str] | str) -> CheckpointError:
    if isinstance(names, str):
        names = [names]
    shown = ", ".join(repr(n) for n in names)
    return CheckpointError(
        f"{path}: refusing to unpickle global {shown}: not on the allow-list (tensors, plain containers, "
        f"{', '.join(sorted(_ALLOWED_NAMES))}); depthforge never executes code from checkpoints"
    )


def read_checkpoint(path: str | PathLike[str], map_location: str | torch.device = "cpu") -> Any:
    """Read a checkpoint file safely (see module docstring).  Returns whatever was saved (usually a dict)."""
    p = str(path)
    if not os.path.exists(p):
        raise CheckpointError(f"{p}: no such checkpoint file")
    if os.path.isdir(p):
        raise CheckpointError(f"{p}: is a directory, not a checkpoint file")
    if os.path.getsize(p) == 0:
        raise CheckpointError(f"{p}: empty file (truncated or failed write)")

    # First pass: list the non-default globals without unpickling anything (zip-format checkpoints).
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(p)
    except Exception:  # noqa: BLE001 - legacy (non-zip) format or corrupt file: the loader below decides
        unsafe = None
    if unsafe is not None:
        bad = [g for g in unsafe if g not in _ALLOWED_NAMES]
        if bad:
            raise _refused(p, bad)

    try:
        with torch.serialization.safe_globals(list(_EXTRA_GLOBALS)), warnings.catch_warnings():
            # torch's note on newer pickle protocols is advice to its own developers, not to users
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(p, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        msg = str(e)
        m = _GLOBAL_RE.search(msg)
        if m:
            raise _refused(p, m.group(1)) from None
        detail = next((ln.strip() for ln in msg.splitlines() if "Unsupported" in ln or "WeightsUnpickler" in ln),
                      _first_line(msg))
        raise CheckpointError(f"{p}: refused: it cannot be loaded without running pickled code ({detail[:200]}); "
                              "depthforge never executes code from checkpoints") from None
    except CheckpointError:
        raise
    except Exception as e:  # noqa: BLE001 - zip errors, EOF, bad magic number, ... all mean "unreadable"
        raise CheckpointError(
            f"{p}: corrupt, truncated or not a torch checkpoint ({type(e).__name__}: {_first_line(str(e))})"
        ) from None


def _first_line(msg: str) -> str:
    lines = [ln.strip() for ln in msg.strip().splitlines() if ln.strip()]
    return (lines[0] if lines else msg)[:300]


def _is_state_dict(obj: Any) -> bool:
    return (
        isinstance(obj, Mapping)
        and len(obj) > 0
        and all(isinstance(k, str) and torch.is_tensor(v) for k, v in obj.items())
    )


def _strip_prefix(sd: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    if sd and all(k.startswith(prefix) for k in sd):
        return {k[len(prefix) :]: v for k, v in sd.items()}
    return dict(sd)


def extract_state_dict(ckpt: Any) -> dict[str, torch.Tensor]:
    """The model state dict inside a checkpoint.

    Accepts the reference layout (``ckpt['model']``), Lightning (``ckpt['state_dict']``, ``model.`` prefix
    removed), or a bare state dict.  A ``module.`` prefix (DataParallel) is removed as well.
    """
    if isinstance(ckpt, nn.Module):
        raise CheckpointError(
            "expected a checkpoint or state dict, got an nn.Module (use model.state_dict())"
        )
    if not isinstance(ckpt, Mapping):
        raise CheckpointError(f"expected a checkpoint dict, got {type(ckpt).__name__}")
    if "model" in ckpt and _is_state_dict(ckpt["model"]):
        sd = dict(ckpt["model"])
    elif "model_state_dict" in ckpt and _is_state_dict(ckpt["model_state_dict"]):  # PatchRefiner's layout
        sd = dict(ckpt["model_state_dict"])
    elif "state_dict" in ckpt and _is_state_dict(ckpt["state_dict"]):
        sd = _strip_prefix(ckpt["state_dict"], "model.")
    elif _is_state_dict(ckpt):
        sd = dict(ckpt)
    else:
        keys = ", ".join(repr(k) for k in list(ckpt)[:_MAX_LISTED])
        raise CheckpointError(
            f"no model state dict found in checkpoint (looked for 'model', 'model_state_dict', 'state_dict' or a bare state dict; "
            f"top-level keys: {keys})"
        )
    return _strip_prefix(sd, "module.")


def _fmt_keys(keys: list[str]) -> str:
    shown = ", ".join(keys[:_MAX_LISTED])
    more = f" ... (+{len(keys) - _MAX_LISTED} more)" if len(keys) > _MAX_LISTED else ""
    return f"{len(keys)}: {shown}{more}"


def load_checkpoint(
    model: nn.Module,
    path_or_state: str | PathLike[str] | Mapping[str, Any],
    strict: bool = True,
    *,
    backbone_only: bool = False,
) -> dict[str, Any]:
    """Load a checkpoint (file or dict) into ``model`` with its family's layout mapping and strict checks.

    The model's contract filter (``type(model).contract.checkpoint_filter``) decides the checkpoint's layout,
    which sub-module receives it and which keys are left out on purpose; a model without one loads key for
    key (layout ``direct``). ``backbone_only=True`` lets the filter load the part of a larger model's
    checkpoint that fits a smaller model, which it refuses otherwise.

    With ``strict=True`` (default) the key sets and every shape must match exactly, otherwise a
    :class:`CheckpointError` lists missing / unexpected / shape-mismatched keys.  With ``strict=False`` the
    matching entries are loaded and the rest reported in the returned info; loading *nothing* is always an
    error.  Returns an info dict: ``layout``, ``target``, ``loaded`` (count), ``missing``, ``unexpected``,
    ``mismatched``, ``ignored``, ``epoch`` (if present), ``source``.
    """
    source = None
    ckpt: Any
    if isinstance(path_or_state, (str, PathLike)):
        source = str(path_or_state)
        ckpt = read_checkpoint(source)
    else:
        ckpt = path_or_state
    return _load_into(model, ckpt, source, strict=strict, backbone_only=backbone_only)


def _map_state(
    sd: dict[str, torch.Tensor], model: nn.Module, where: str, backbone_only: bool
) -> CheckpointMapping:
    contract = getattr(type(model), "contract", None)
    flt = contract.checkpoint_filter if isinstance(contract, ModelContract) else None
    if flt is None:
        return CheckpointMapping(sd)
    try:
        return flt(sd, model, backbone_only=backbone_only)
    except CheckpointError as e:
        raise CheckpointError(f"{where}{e}") from None


def _load_into(
    model: nn.Module, ckpt: Any, source: str | None, *, strict: bool, backbone_only: bool
) -> dict[str, Any]:
    where = f"{source}: " if source else ""
    try:
        sd = extract_state_dict(ckpt)
    except CheckpointError as e:
        raise CheckpointError(f"{where}{e}") from None

    mapping = _map_state(sd, model, where, backbone_only)
    sd, layout = mapping.state_dict, mapping.layout
    target = model.get_submodule(mapping.target) if mapping.target else model
    target_name = mapping.target or "model"

    expected = target.state_dict()
    missing = sorted(k for k in expected if k not in sd)
    unexpected = sorted(k for k in sd if k not in expected)
    mismatched = sorted(
        f"{k} (checkpoint {tuple(sd[k].shape)} vs model {tuple(expected[k].shape)})"
        for k in expected
        if k in sd and tuple(sd[k].shape) != tuple(expected[k].shape)
    )
    n_match = len(expected) - len(missing) - len(mismatched)
    desc = f"{where}checkpoint layout {layout!r} into {target_name} ({type(target).__name__})"
    if n_match == 0:
        raise CheckpointError(
            f"{desc}: no key matches; missing {_fmt_keys(missing)}; unexpected {_fmt_keys(unexpected)}"
        )
    if strict and (missing or unexpected or mismatched):
        parts = []
        if missing:
            parts.append(f"missing {_fmt_keys(missing)}")
        if unexpected:
            parts.append(f"unexpected {_fmt_keys(unexpected)}")
        if mismatched:
            parts.append(f"shape mismatch {_fmt_keys(mismatched)}")
        raise CheckpointError(f"{desc} does not fit (strict): " + "; ".join(parts))

    bad = {m.split(" ", 1)[0] for m in mismatched}
    to_load = {k: v for k, v in sd.items() if k in expected and k not in bad}
    target.load_state_dict(to_load, strict=strict)
    info: dict[str, Any] = {
        "layout": layout,
        "target": target_name,
        "loaded": len(to_load),
        "missing": missing,
        "unexpected": unexpected,
        "mismatched": mismatched,
        "ignored": list(mapping.ignored),
        "source": source,
    }
    if isinstance(ckpt, Mapping) and "epoch" in ckpt:
        info["epoch"] = ckpt["epoch"]
    return info


def recorded_model(ckpt: Any) -> tuple[str, dict[str, Any]] | None:
    """``(name, kwargs)`` of the model section a depthforge checkpoint records in its config, if any.

    Lightning checkpoints keep it in ``hyper_parameters['config']['model']``, plain ones in
    ``args['model']``.
    """
    if not isinstance(ckpt, Mapping):
        return None
    hyper = ckpt.get("hyper_parameters")
    for holder in (hyper.get("config") if isinstance(hyper, Mapping) else None, ckpt.get("args")):
        section = holder.get("model") if isinstance(holder, Mapping) else None
        if isinstance(section, Mapping) and isinstance(section.get("name"), str):
            return section["name"], dict(section.get("kwargs") or {})
    return None


def build_from_checkpoint(path: str | PathLike[str], name: str | None = None, *,
                          checkpoint_wins: bool = False, **kwargs: Any) -> nn.Module:
    """Build the registered model that the checkpoint at ``path`` holds and load its weights (strict).

    The architecture comes from the model recorded in a depthforge checkpoint's config or, for other files,
    from the built-in family that recognises the state dict (``registry.model_from_state_dict``). ``name``
    picks the variant explicitly; the checkpoint's own kwargs still apply when it describes that same
    variant, and explicit ``kwargs`` win over them, so a config naming the variant with another width can
    still load it; with ``checkpoint_wins`` the checkpoint's architecture arguments win instead (a shipped
    config evaluating a checkpoint of another width). The checkpoint must fill the whole model: a part (a
    backbone for a full model) is refused, since the rest would stay random. The model is returned as
    built (training mode), on the CPU.
    """
    from depthforge.registry import create_model, model_from_state_dict

    source = str(path)
    ckpt = read_checkpoint(source)
    described = recorded_model(ckpt)
    if described is None:
        try:
            state = extract_state_dict(ckpt)
        except CheckpointError as e:
            raise CheckpointError(f"{source}: {e}") from None
        described = model_from_state_dict(state)
    if name is None:
        if described is None:
            raise CheckpointError(
                f"{source}: cannot tell which model this checkpoint holds (its config records none and no "
                "built-in model family recognises its keys); name the model explicitly"
            )
        name = described[0]
    own = described[1] if described is not None and described[0] == name else {}
    model = create_model(name, **({**kwargs, **own} if checkpoint_wins else {**own, **kwargs}))
    info = _load_into(model, ckpt, source, strict=True, backbone_only=False)
    if info["target"] != "model":
        holds = f"a {described[0]} model" if described is not None else f"only its {info['target']}"
        raise CheckpointError(
            f"{source}: holds {holds}, which fills only the {info['target']} of {name}; the rest would stay "
            "untrained. Use a checkpoint of the whole model (starting a new stage from a part is done with "
            "run.load_from / the reference's -f)"
        )
    return model


def to_plain(obj: Any) -> Any:
    """Recursively convert an object tree to tensors and plain containers (``Namespace``/stubs -> dict)."""
    if torch.is_tensor(obj) or obj is None or isinstance(obj, (bool, int, float, str, bytes)):
        return obj
    if isinstance(obj, Mapping):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return (
            type(obj)(to_plain(v) for v in obj) if isinstance(obj, list) else tuple(to_plain(v) for v in obj)
        )
    if isinstance(obj, argparse.Namespace):
        return {k: to_plain(v) for k, v in vars(obj).items()}
    if isinstance(obj, ReferenceResultStub):
        return to_plain(obj.as_dict())
    if isinstance(obj, torch.Size):
        return tuple(obj)
    raise CheckpointError(f"cannot store object of type {type(obj).__name__} in a plain checkpoint")


def _check_plain(obj: Any, where: str = "checkpoint") -> None:
    if torch.is_tensor(obj) or obj is None or isinstance(obj, (bool, int, float, str, bytes, torch.Size)):
        return
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise CheckpointError(f"{where}: key {k!r} is not a str/int")
            _check_plain(v, f"{where}[{k!r}]")
        return
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check_plain(v, f"{where}[{i}]")
        return
    raise CheckpointError(
        f"{where}: object of type {type(obj).__name__} cannot be saved in a depthforge checkpoint (tensors and "
        "plain containers only, so that it loads with weights_only=True); convert it with to_plain()"
    )


def save_checkpoint(obj: Any, path: str | PathLike[str], *, check_plain: bool = True) -> Path:
    """Atomically write ``obj`` with ``torch.save``: temporary file in the target folder, fsync, ``os.replace``.

    A crash leaves either the old file or the new one, never a partial file, and no temporary file is left
    behind on error.  With ``check_plain`` (default) only tensors and plain containers are accepted.
    """
    if check_plain:
        _check_plain(obj)
    dst = Path(path)
    folder = dst.parent if str(dst.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dst)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename durable (best effort; not supported on every platform/filesystem)
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return dst


def convert_reference_checkpoint(src: str | PathLike[str], dst: str | PathLike[str]) -> dict[str, Any]:
    """Rewrite an official SemAttNet checkpoint as a plain one (loads with ``weights_only=True``).

    Keeps ``model`` (state dict), ``epoch``, ``best_result`` (dict of the ``Result`` attributes), ``args``
    (dict) and ``optimizer``.  Returns the converted object.
    """
    ckpt = read_checkpoint(src)
    if not isinstance(ckpt, Mapping):
        raise CheckpointError(f"{src}: expected a dict checkpoint, got {type(ckpt).__name__}")
    out = {
        "model": extract_state_dict(ckpt),
        "format": "depthforge-v1",
        "converted_from": os.path.basename(str(src)),
    }
    for key in ("epoch", "best_result", "args", "optimizer"):
        if key in ckpt:
            out[key] = to_plain(ckpt[key])
    save_checkpoint(out, dst)
    return out
