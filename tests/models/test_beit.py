"""BEiT position bias reuse: the same tokens as building it per forward, built once per grid and weights."""

from __future__ import annotations

import torch

from depthforge.models.layers.beit import Beit, BeitAttention, reusing_position_bias


def _small_beit() -> Beit:
    torch.manual_seed(0)
    model = Beit(patch_size=4, embed_dim=16, depth=2, num_heads=2, pretrain_grid=3, num_classes=1).eval()
    with torch.no_grad():
        for block in model.blocks:
            block.attn.relative_position_bias_table.normal_()
    return model


def _count_builds(model: Beit, counter: list[int]) -> None:
    for layer in model.modules():
        if isinstance(layer, BeitAttention):
            build = layer._build_position_bias

            def counted(grid: tuple[int, int], build=build) -> torch.Tensor:
                counter.append(1)
                return build(grid)

            layer._build_position_bias = counted  # type: ignore[method-assign]


def test_reused_bias_gives_the_same_tokens_and_is_built_once_per_grid() -> None:
    model = _small_beit()
    x = torch.rand(3, 3, 12, 16)
    with torch.no_grad():
        expected = [model.forward_tokens(x[i : i + 1], [0, 1])[1] for i in range(3)]
        builds: list[int] = []
        _count_builds(model, builds)
        with reusing_position_bias(model):
            got = [model.forward_tokens(x[i : i + 1], [0, 1])[1] for i in range(3)]
            assert len(builds) == 2  # one per layer, not one per layer and forward
            model.forward_tokens(torch.rand(1, 3, 8, 8), [1])  # another grid: built again
            assert len(builds) == 4
    for e, g in zip(expected, got):
        torch.testing.assert_close(g, e, rtol=0, atol=0)
    assert all(layer.bias_cache is None for layer in model.modules() if isinstance(layer, BeitAttention))


def test_reuse_is_off_with_gradients_and_follows_a_changed_table() -> None:
    model = _small_beit()
    x = torch.rand(1, 3, 12, 16)
    builds: list[int] = []
    _count_builds(model, builds)
    with reusing_position_bias(model):
        model.forward_tokens(x, [1])[0].sum().backward()  # training: a bias per forward, gradients flow
        model.forward_tokens(x, [1])
        assert len(builds) == 4
        assert model.blocks[0].attn.relative_position_bias_table.grad is not None
        with torch.no_grad():
            before = model.forward_tokens(x, [1])[0]
            assert len(builds) == 6
            model.blocks[0].attn.relative_position_bias_table.mul_(3.0)  # a shift would cancel in softmax
            after = model.forward_tokens(x, [1])[0]
            assert len(builds) == 7  # only the changed layer rebuilds
    assert not torch.equal(before, after)
