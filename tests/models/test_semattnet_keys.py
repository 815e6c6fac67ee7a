"""State-dict layout of depthforge's SemAttNet vs the official checkpoints (built on the meta device)."""

from __future__ import annotations

import pytest
import torch

import depthforge
from depthforge.testing import written_keys

from ._semattnet_utils import reference_keys


def _meta(name: str, **kw) -> torch.nn.Module:
    with torch.device("meta"):
        return depthforge.create_model(name, **kw)


@pytest.mark.parametrize(
    "name, section, n_keys, n_params, n_written",
    [("semattnet_bb", "bb", 662, 360_717_636, 557), ("semattnet", "sem_att", 734, 360_957_784, 617)],
)
def test_state_dict_keys_and_shapes_match_reference(name, section, n_keys, n_params, n_written):
    model = _meta(name, width_mult=1.0)
    ref = reference_keys()[section]
    assert len(ref) == n_keys
    sd = model.state_dict()
    missing = sorted(set(ref) - set(sd))
    unexpected = sorted(set(sd) - set(ref))
    assert not missing and not unexpected, (missing[:5], unexpected[:5])
    bad = [(k, tuple(t.shape), ref[k][0]) for k, t in sd.items() if tuple(t.shape) != ref[k][0]]
    assert not bad, bad[:5]
    bad_dtype = [k for k, t in sd.items() if str(t.dtype).replace("torch.", "") != ref[k][1]]
    assert not bad_dtype, bad_dtype[:5]
    params = {n for n, _ in model.named_parameters()}
    kinds = {k: ("param" if k in params else "buffer") for k in sd}
    assert all(kinds[k] == ref[k][2] for k in sd)
    assert sum(p.numel() for p in model.parameters()) == n_params
    assert len(written_keys(model)) == n_written


def test_head_parameter_count_and_dead_layers_present():
    model = _meta("semattnet")
    head = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("backbone."))
    assert head == 240_148
    dead = sum(p.numel() for n, p in model.named_parameters() if n.startswith(("att_12.", "dimhalf_s2.")))
    assert dead == 22_084


@pytest.mark.parametrize("width", [0.5, 0.125, 1 / 16])
def test_width_mult_scales_channels(width):
    model = _meta("semattnet", width_mult=width)
    full = reference_keys()["sem_att"]
    sd = model.state_dict()
    assert set(sd) == set(full)  # same architecture, same names
    c1 = model.backbone.channels["s1"]
    assert c1 == 3 * max(1, round(32 * width))
    assert sd["kernel_conf_layer.0.weight"].shape == (3, c1, 3, 3)
    assert sd["iter_guide_layer7.generate.0.weight"].shape[0] == 48  # k*k-1 is not scaled
    assert sd["backbone.rgb_decoder_output.0.weight"].shape[1] == 2  # depth + confidence
    hidden = sd["backbone.cbam_128.ChannelGate.mlp.1.weight"].shape[0]
    assert hidden == max(1, sd["backbone.cbam_128.ChannelGate.mlp.1.weight"].shape[1] // 16)
    n = sum(p.numel() for p in model.parameters())
    assert n < 360_957_784 * width * width * 1.5 + 300_000


def test_registry_lists_variants():
    names = depthforge.list_models()
    assert "semattnet" in names and "semattnet_bb" in names
