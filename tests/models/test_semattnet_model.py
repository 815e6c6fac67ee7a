"""Behaviour of the SemAttNet modules at reduced width: contract, outputs, training, memory-efficient mode."""

from __future__ import annotations

import copy

import pytest
import torch

import depthforge
from depthforge.models.semattnet.cspn import AffinityNaNError
from depthforge.testing import fill_state_dict

from ._semattnet_utils import random_batch

W = 1 / 16


def _masked_mse(pred, gt):
    valid = gt > 0
    return ((pred - gt)[valid] ** 2).mean()


def test_input_validation():
    model = depthforge.create_model("semattnet", width_mult=W).eval()
    batch = random_batch(1, 64, 96)
    bad = dict(
        batch,
        sparse=batch["sparse"][..., :, :80],
        image=batch["image"][..., :80],
        semantic=batch["semantic"][..., :80],
    )
    with pytest.raises(ValueError, match="multiples of 32"):
        model(bad)
    with pytest.raises(ValueError, match="image"):
        model(dict(batch, image=batch["image"][:, :2]))
    with pytest.raises(KeyError, match="semantic"):
        model({"image": batch["image"], "sparse": batch["sparse"]})
    with pytest.raises(ValueError, match="share"):
        model(dict(batch, sparse=batch["sparse"][..., :32, :]))


def test_outputs_and_semantics():
    torch.manual_seed(0)
    model = depthforge.create_model("semattnet", width_mult=W).eval()
    batch = random_batch(2, 64, 128)
    with torch.inference_mode():
        out = model(batch)
        bb = model.backbone(batch)
    for key in ("depth", "coarse", "refined_s2", "rgb_depth", "semantic_depth", "d_depth", "rgb_conf"):
        assert out[key].shape == (2, 1, 64, 128), key
    torch.testing.assert_close(out["coarse"], bb["depth"], rtol=0, atol=0)  # true backbone fusion
    assert not torch.equal(out["refined_s2"], out["coarse"])
    # bitwise-parity mode (dead att blend evaluated, naive propagation) agrees to rounding
    model.bitwise_parity = True
    with torch.inference_mode():
        out2 = model(batch)
    scale = out["depth"].abs().max()
    torch.testing.assert_close(out2["depth"], out["depth"], rtol=0, atol=1e-5 * float(scale) + 1e-6)


def test_dead_layers_do_not_change_output():
    model = depthforge.create_model("semattnet", width_mult=W).eval()
    batch = random_batch(1, 64, 64, seed=3)
    with torch.inference_mode():
        a = model(batch)["depth"]
        for p in list(model.att_12.parameters()) + list(model.dimhalf_s2.parameters()):
            p.add_(torch.randn_like(p))
        b = model(batch)["depth"]
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_nan_detector_in_model():
    model = depthforge.create_model("semattnet", width_mult=W).eval()
    with torch.no_grad():
        model.iter_guide_layer5.generate[1].weight.zero_()
        model.iter_guide_layer5.generate[1].bias.zero_()
    with torch.inference_mode(), pytest.raises(AffinityNaNError, match="iter_guide_layer5"):
        model(random_batch(1, 32, 64))


def test_one_training_step_reduces_loss_and_grads_flow():
    torch.manual_seed(0)
    model = depthforge.create_model("semattnet", width_mult=W).train()
    batch = random_batch(2, 64, 256, seed=1)
    gt = torch.where(
        torch.rand(2, 1, 64, 256) < 0.3, 5 + 10 * torch.rand(2, 1, 64, 256), torch.zeros(2, 1, 64, 256)
    )
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss0 = _masked_mse(model(batch)["depth"], gt)
    opt.zero_grad()
    loss0.backward()
    head = model.iter_guide_layer7.generate[0].weight.grad
    head_s2 = model.iter_guide_layer3_s2.generate[0].weight.grad
    bb_deep = model.backbone.depth_layer10.conv2.weight.grad
    bb_rgb = model.backbone.rgb_conv_init[0].weight.grad
    for g in (
        head,
        head_s2,
        bb_deep,
        bb_rgb,
        model.kernel_conf_layer[0].weight.grad,
        model.mask_layer[0].weight.grad,
    ):
        assert g is not None and torch.isfinite(g).all() and g.abs().sum() > 0
    opt.step()
    # same batch, BN in train mode again: the loss must go down
    loss1 = _masked_mse(model(batch)["depth"], gt)
    assert loss1 < loss0, (float(loss0), float(loss1))


def test_memory_efficient_mode_gives_same_gradients_and_bn_stats():
    torch.manual_seed(0)
    base = depthforge.create_model("semattnet", width_mult=W)
    fill_state_dict(base, 7)
    # make the synthetic model numerically tame for a gradient comparison
    batch = random_batch(1, 64, 128, seed=2)
    batch = {k: v / 255.0 if k != "sparse" else v for k, v in batch.items()}
    results = []
    for mem in (False, True):
        m = copy.deepcopy(base).train()
        m.memory_efficient = mem
        out = m(batch)
        loss = out["depth"].square().mean() + out["coarse"].square().mean()
        loss.backward()
        grads = {n: p.grad.clone() for n, p in m.named_parameters() if p.grad is not None}
        bufs = {k: v.clone() for k, v in m.state_dict().items() if "running" in k or "num_batches" in k}
        results.append((float(loss.detach()), grads, bufs))
    (l0, g0, b0), (l1, g1, b1) = results
    assert l0 == l1
    assert g0.keys() == g1.keys()
    for n in g0:
        torch.testing.assert_close(
            g1[n], g0[n], rtol=1e-5, atol=1e-6 * float(g0[n].abs().max()) + 1e-12, msg=n
        )
    for k in b0:  # checkpoint recomputation must not update BN statistics twice
        torch.testing.assert_close(b1[k], b0[k], rtol=0, atol=0, msg=k)


def test_float64_and_batch_consistency():
    model = depthforge.create_model("semattnet", width_mult=W).eval()
    batch = random_batch(2, 32, 64, seed=5)
    with torch.inference_mode():
        both = model(batch)["depth"]
        one = model({k: v[1:] for k, v in batch.items()})["depth"]
    torch.testing.assert_close(both[1:], one, rtol=1e-5, atol=1e-4)
    m64 = copy.deepcopy(model).double()
    with torch.inference_mode():
        d64 = m64({k: v.double() for k, v in batch.items()})["depth"]
    torch.testing.assert_close(d64.float(), both, rtol=1e-4, atol=1e-3)


def test_small_strided_1x1_convs_stay_nchw():
    """Workaround for oneDNN#6035 (heap corruption in NHWC backward of strided 1x1 convs with < 16 inputs)."""
    model = depthforge.create_model("semattnet", width_mult=1 / 8)
    blk = model.backbone.rgb_encoder_layer1  # 4 -> 8 channels, stride 2
    assert blk._ds_nchw and blk.downsample[0].weight.is_contiguous()
    assert blk.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    big = depthforge.create_model("semattnet", width_mult=0.5).backbone.rgb_encoder_layer1  # 16 inputs
    assert not big._ds_nchw and big.downsample[0].weight.is_contiguous(memory_format=torch.channels_last)
    # the configuration that used to abort the process: channels-last training at small width
    model.train()
    out = model(random_batch(1, 64, 256, seed=4))
    out["depth"].square().mean().backward()
    model.channels_last = False
    assert model.backbone.rgb_encoder_layer3.conv1.weight.is_contiguous()
