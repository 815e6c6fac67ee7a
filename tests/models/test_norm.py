"""depthforge.models.layers.BatchNorm2d: nn.BatchNorm2d's numerics in every layout, recomputation included."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from depthforge.models.layers import BatchNorm2d
from depthforge.models.layers.norm import _FEW_CHANNELS
from depthforge.models.layers.recompute import checkpointed


def _pair(channels: int) -> tuple[BatchNorm2d, nn.BatchNorm2d]:
    ours = BatchNorm2d(channels)
    with torch.no_grad():
        ours.weight.uniform_(0.5, 2.0)
        ours.bias.uniform_(-1.0, 1.0)
    plain = nn.BatchNorm2d(channels)
    plain.load_state_dict(ours.state_dict())
    return ours, plain


@pytest.mark.parametrize("channels", [1, 2, _FEW_CHANNELS, _FEW_CHANNELS + 1, 16])
@pytest.mark.parametrize("channels_last", [False, True])
def test_training_matches_torch_batchnorm(channels: int, channels_last: bool) -> None:
    torch.manual_seed(channels)
    ours, plain = _pair(channels)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    x = (torch.randn(2, channels, 12, 20) * 3 + 5).to(memory_format=fmt)
    grad = torch.randn(2, channels, 12, 20).to(memory_format=fmt)
    xs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    ys = [m(xi) for m, xi in zip((ours, plain), xs)]
    for y, xi in zip(ys, xs):
        y.backward(grad)
    torch.testing.assert_close(ys[0], ys[1], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(xs[0].grad, xs[1].grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours.weight.grad, plain.weight.grad, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ours.bias.grad, plain.bias.grad, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ours.running_mean, plain.running_mean)
    torch.testing.assert_close(ours.running_var, plain.running_var)
    assert int(ours.num_batches_tracked) == 1
    # the next layer sees the layout it was given
    assert ys[0].is_contiguous(memory_format=fmt)


def test_eval_is_the_plain_affine_in_channels_last() -> None:
    ours, plain = _pair(2)
    x = torch.randn(1, 2, 8, 8).to(memory_format=torch.channels_last)
    ours.train()(x)
    plain.train()(x)
    ours.eval()
    plain.eval()
    torch.testing.assert_close(ours(x), plain(x), rtol=0, atol=0)


def test_recomputation_reproduces_the_forward_and_keeps_the_statistics() -> None:
    """Checkpointed (the layer runs twice) and plain training give the same gradients and one statistics update."""
    torch.manual_seed(0)
    ours, plain = _pair(4)
    x = torch.randn(2, 4, 10, 10).to(memory_format=torch.channels_last)
    a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
    checkpointed(ours, a).sum().backward()
    plain(b).sum().backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(ours.running_mean, plain.running_mean)
    torch.testing.assert_close(ours.running_var, plain.running_var)
