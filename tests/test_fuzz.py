"""Property-based fuzzing: any file content and any config either loads or raises the project's own
one-line error; never another exception. Example counts are bounded so that CI stays fast."""

from __future__ import annotations

import io as _io
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depthforge import io as dio
from depthforge.config import build_config, load_config
from depthforge.errors import DepthforgeError

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _png16() -> bytes:
    ok, buf = cv2.imencode(".png", (np.arange(48, dtype=np.uint16).reshape(6, 8) * 700))
    assert ok
    return buf.tobytes()


def _png_rgb() -> bytes:
    ok, buf = cv2.imencode(".png", np.arange(144, dtype=np.uint8).reshape(6, 8, 3))
    assert ok
    return buf.tobytes()


def _npy() -> bytes:
    out = _io.BytesIO()
    np.save(out, np.linspace(0, 80, 48, dtype=np.float32).reshape(6, 8))
    return out.getvalue()


def _pfm() -> bytes:
    return b"Pf\n8 6\n-1.0\n" + np.linspace(0, 80, 48, dtype="<f4").tobytes()


# reader name -> (suffix, a valid file's bytes, reader)
READERS: dict[str, tuple[str, bytes, Callable[[Path], Any]]] = {
    "depth png": (".png", _png16(), dio.read_depth_png),
    "depth png lenient": (".png", _png16(), lambda p: dio.read_depth_png(p, strict=False)),
    "rgb png": (".png", _png_rgb(), dio.read_rgb),
    "semantic png": (".png", _png_rgb(), dio.read_semantic),
    "png header": (".png", _png16(), dio.image_size),
    "cityscapes disparity": (".png", _png16(), dio.read_disparity_png),
    "npy depth": (".npy", _npy(), dio.read_depth),
    "npy prediction": (".npy", _npy(), dio.read_prediction),
    "pfm depth": (".pfm", _pfm(), dio.read_depth),
    "u4k raw": (".raw", bytes(range(144)), lambda p: dio.read_raw_image(p, 6, 8)),
    "u4k extrinsics": (".txt", b"1000.0 0 0 0\n0.5 0 0 0\n", dio.read_extrinsics),
    "camera json": (".json", b'{"extrinsic": {"baseline": 0.2}, "intrinsic": {"fx": 2000.0}}', dio.read_camera),
}


def _check(reader: Callable[[Path], Any], suffix: str, data: bytes) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / f"f{suffix}"
        path.write_bytes(data)
        try:
            reader(path)
        except DepthforgeError as exc:
            assert "\n" not in str(exc), str(exc)
    finally:
        shutil.rmtree(folder)


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("name", sorted(READERS))
@FUZZ
@given(data=st.data())
def test_readers_load_or_raise_one_line(name: str, data: st.DataObject) -> None:
    suffix, valid, reader = READERS[name]
    kind = data.draw(st.sampled_from(["random", "truncated", "flipped", "appended"]))
    if kind == "random":
        content = data.draw(st.binary(max_size=300))
    elif kind == "truncated":
        content = valid[: data.draw(st.integers(0, len(valid)))]
    elif kind == "flipped":
        buf = bytearray(valid)
        for i in data.draw(st.lists(st.integers(0, len(valid) - 1), min_size=1, max_size=8)):
            buf[i] ^= data.draw(st.integers(1, 255))
        content = bytes(buf)
    else:
        content = valid + data.draw(st.binary(min_size=1, max_size=64))
    _check(reader, suffix, content)


SECTIONS = ("model", "task", "data", "optim", "scheduler", "trainer", "checkpoint", "logging", "eval", "run")
KEYS = ("name", "kwargs", "dataset", "options", "batch_size", "lr", "epochs", "monitor", "protocol", "crop_h",
        "loss", "criterion", "freeze", "betas", "devices", "resume", "width_mult", "val", "jitter", "bogus")
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=True),
                    st.text(max_size=12), st.sampled_from(["semattnet", "kitti", "completion", "kitti-penet", "l2"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.sampled_from(KEYS), inner, max_size=3)),
                      max_leaves=8)


@FUZZ
@given(tree=st.dictionaries(st.sampled_from(SECTIONS), st.dictionaries(st.sampled_from(KEYS), values, max_size=4),
                            max_size=4))
def test_config_dicts_validate_or_raise_one_line(tree: dict[str, Any]) -> None:
    try:
        build_config(tree)
    except DepthforgeError as exc:
        assert "\n" not in str(exc), str(exc)


@FUZZ
@given(text=st.one_of(st.text(max_size=200),
                      st.builds(lambda a, b: f"model:\n  name: {a}\ndata:\n  batch_size: {b}\n",
                                st.text(max_size=10), st.text(max_size=10))))
def test_yaml_text_loads_or_raises_one_line(text: str) -> None:
    folder = Path(tempfile.mkdtemp())
    try:
        path = folder / "c.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_config(path)
        except DepthforgeError as exc:
            assert "\n" not in str(exc), str(exc)
    finally:
        shutil.rmtree(folder)
