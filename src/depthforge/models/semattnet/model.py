"""SemAttNet (Nazir et al., IEEE Access 2022): three-branch backbone + dilated CSPN++ head.

Faithful to ``danishnazir/SemAttNet`` (branch ``training``, ``model.py``): same layers, same parameter names
(``state_dict`` keys identical to the official checkpoints), same numerics.  Differences are engineering only:

* inputs follow the batch schema (:mod:`depthforge.batch`): ``image``, ``sparse``, ``semantic``;
* structured dict outputs; ``coarse`` is the *true* backbone fusion (the reference's in-place aliasing
  overwrites it with the s2-refined depth), ``refined_s2`` is reported separately;
* the head's in-place aliasing is reproduced functionally: the full-resolution stage starts from and is
  anchored to the s2-refined depth; ``att_12``/``dimhalf_s2`` exist as (dead) parameters, because the
  aliasing turns their blend into an identity, and are evaluated only with ``bitwise_parity=True``;
* fast, memory-lean CSPN propagation (:mod:`depthforge.models.semattnet.cspn`), the four polyphase
  sub-images are propagated together;
* optional activation checkpointing in training (``memory_efficient``) that leaves BatchNorm statistics and
  gradients unchanged;
* a NaN detector on the affinity normalisation (the reference divides without epsilon);
* ``width_mult`` scales every channel count (1.0 = the published model).

Each class declares its :class:`~depthforge.models.contract.ModelContract` (``contract``); the factories
:func:`semattnet_bb` and :func:`semattnet` carry the class they build as ``model_class``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from depthforge.batch import DEPTH, IMAGE, SEMANTIC, SPARSE
from depthforge.models.contract import ModelContract, builds
from depthforge.models.layers import checkpointed, scale_channels, set_weight_memory_format
from depthforge.models.semattnet.blocks import (
    SAMMAFB,
    BasicBlockGeo,
    CSPNGenerate,
    SparseDownSampleClose,
    convbn,
    convbnrelu,
    deconvbnrelu,
)
from depthforge.models.semattnet.checkpoint import checkpoint_filter
from depthforge.models.semattnet.cspn import (
    NanPolicy,
    cspn_chain,
    cspn_chain_reference,
    normalize_guide,
    shift_guide,
)

__all__ = ["BRANCH_DEPTHS", "SemAttNet", "SemAttNetBackbone", "semattnet", "semattnet_bb", "validate_inputs"]


def _restore_weight_layout(module: nn.Module, incompatible_keys: Any) -> None:
    """``load_state_dict`` post-hook: ``assign=True`` loads replace the parameters; re-apply the layout."""
    set_weight_memory_format(module, bool(getattr(module, "channels_last", False)))


BRANCH_DEPTHS = ("rgb_depth", "semantic_depth", "d_depth")
"""The backbone's per-branch depth outputs (the reference's deep supervision targets them)."""
_BRANCH_OUTPUTS = (*BRANCH_DEPTHS, "rgb_conf", "semantic_conf", "d_conf")
_INPUTS = (IMAGE, SPARSE, SEMANTIC)
_CHANNELS = {IMAGE: 3, SPARSE: 1, SEMANTIC: 3}
_MULTIPLE = 32  # five stride-2 stages must invert exactly
_LEVELS = 5  # stride-2 stages; level L is at 1/2**L resolution
_HEAVY_LEVEL = 2  # memory-efficient mode checkpoints modules that touch maps at level <= 2 (1/4 res or finer)

# Backbone wiring as tables of module attribute names (the names are state_dict keys of the official
# checkpoints). Encoders: a stem, then per level a stride-2 block and a stride-1 block. Fusers: per level
# 1..4, the attention block that merges the guiding branches into the next stage's input. Decoders: one
# up-sampling block per level, from the bottleneck to full resolution, then the two-channel head.
_STEMS = {"colour": "rgb_conv_init", "semantic": "segment_conv_init", "depth": "depth_conv_init"}
_ENCODERS = {
    "colour": tuple(f"rgb_encoder_layer{k}" for k in range(1, 11)),
    "semantic": tuple(f"segment_encoder_layer{k}" for k in range(1, 11)),
    "depth": tuple(f"depth_layer{k}" for k in range(1, 11)),
}
_FUSERS = {
    "semantic": ("cbam_128", "cbam_256", "cbam_512", "cbam_1024"),
    "depth": ("cbam_192", "cbam_448", "cbam_960", "cbam_1984"),
}
_DECODERS = {
    "colour": tuple(f"rgb_decoder_layer{k}" for k in (8, 6, 4, 2, 0)),
    "semantic": tuple(f"segment_decoder_layer{k}" for k in range(1, 6)),
    "depth": tuple(f"decoder_layer{k}" for k in range(1, 6)),
}
_HEADS = {"colour": "rgb_decoder_output", "semantic": "segment_decoder_layer6", "depth": "decoder_layer6"}
_Apply = Callable[..., torch.Tensor]


def validate_inputs(inputs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Check the SemAttNet inputs and return ``(image, semantic, sparse)``.

    Keys ``image`` (B,3,H,W), ``sparse`` (B,1,H,W), ``semantic`` (B,3,H,W) floating tensors; H and W
    multiples of 32.
    """
    required = ", ".join(repr(k) for k in _INPUTS)
    if not isinstance(inputs, Mapping):
        raise TypeError(f"SemAttNet expects a dict with keys {required}; got {type(inputs).__name__}")
    missing = [k for k in _INPUTS if k not in inputs]
    if missing:
        raise KeyError(f"SemAttNet input is missing key(s) {missing}; required: {required}")
    for name in _INPUTS:
        t, ch = inputs[name], _CHANNELS[name]
        if not torch.is_tensor(t) or t.dim() != 4 or t.shape[1] != ch:
            shape = tuple(t.shape) if torch.is_tensor(t) else type(t).__name__
            raise ValueError(f"SemAttNet input {name!r} must be a (B,{ch},H,W) tensor, got {shape}")
        if not t.is_floating_point():
            raise ValueError(f"SemAttNet input {name!r} must be a floating-point tensor, got {t.dtype}")
    image, sem, sparse = inputs[IMAGE], inputs[SEMANTIC], inputs[SPARSE]
    if not (image.shape[0] == sem.shape[0] == sparse.shape[0]) or not (
        image.shape[-2:] == sem.shape[-2:] == sparse.shape[-2:]
    ):
        raise ValueError(
            "SemAttNet inputs must share batch size and spatial size: "
            f"image {tuple(image.shape)}, semantic {tuple(sem.shape)}, sparse {tuple(sparse.shape)}"
        )
    h, w = sparse.shape[-2:]
    if h % _MULTIPLE or w % _MULTIPLE or h == 0 or w == 0:
        raise ValueError(
            f"SemAttNet input size {h}x{w} is not supported: H and W must be positive multiples of "
            f"{_MULTIPLE} (five stride-2 stages must invert exactly); crop or pad, e.g. to 352x1216"
        )
    return image, sem, sparse


class SemAttNetBackbone(nn.Module):
    """Three-branch backbone ``three_branch_bb`` (colour-, semantic- and depth-guided branches + SAMMAFB).

    ``forward(inputs)`` returns a dict with ``depth`` (confidence-fused depth), ``rgb_depth``, ``semantic_depth``,
    ``d_depth`` and the softmaxed weights ``rgb_conf``, ``semantic_conf``, ``d_conf``; with
    ``return_features=True`` also ``feature_s1`` (3*32*w channels, full res) and ``feature_s2`` (3*64*w, half res).
    """

    # Every parameter reaches ``depth`` (the confidence softmax couples all three branches).
    contract: ClassVar[ModelContract] = ModelContract(
        task="completion",
        inputs=_INPUTS,
        outputs=(DEPTH, *_BRANCH_OUTPUTS),
        input_multiple=_MULTIPLE,
        image_range=(0.0, 255.0),
        unused_parameters=(),
        checkpoint_filter=checkpoint_filter,
    )

    def __init__(
        self, width_mult: float = 1.0, memory_efficient: bool = True, channels_last: bool = True
    ) -> None:
        super().__init__()
        if not width_mult > 0:
            raise ValueError(f"width_mult must be > 0, got {width_mult}")
        self.width_mult = float(width_mult)
        self.memory_efficient = bool(memory_efficient)
        self._channels_last = bool(channels_last)
        s = lambda n: scale_channels(n, width_mult)
        c32, c64, c128, c256, c512, c1024 = s(32), s(64), s(128), s(256), s(512), s(1024)
        d192 = c64 + c64 + c64
        d448 = c128 + c128 + d192
        d960 = c256 + c256 + d448
        d1984 = c512 + c512 + d960
        self.channels = {"s1": 3 * c32, "s2": 3 * c64}

        self.cbam_128 = SAMMAFB(c64 + c64)
        self.cbam_256 = SAMMAFB(c128 + c128)
        self.cbam_512 = SAMMAFB(c256 + c256)
        self.cbam_1024 = SAMMAFB(c512 + c512)
        self.cbam_192 = SAMMAFB(d192)
        self.cbam_448 = SAMMAFB(d448)
        self.cbam_960 = SAMMAFB(d960)
        self.cbam_1984 = SAMMAFB(d1984)

        # colour-guided branch
        self.rgb_conv_init = convbnrelu(4, c32, kernel_size=5, stride=1, padding=2)
        self.rgb_encoder_layer1 = BasicBlockGeo(c32, c64, stride=2)
        self.rgb_encoder_layer2 = BasicBlockGeo(c64, c64, stride=1)
        self.rgb_encoder_layer3 = BasicBlockGeo(c64, c128, stride=2)
        self.rgb_encoder_layer4 = BasicBlockGeo(c128, c128, stride=1)
        self.rgb_encoder_layer5 = BasicBlockGeo(c128, c256, stride=2)
        self.rgb_encoder_layer6 = BasicBlockGeo(c256, c256, stride=1)
        self.rgb_encoder_layer7 = BasicBlockGeo(c256, c512, stride=2)
        self.rgb_encoder_layer8 = BasicBlockGeo(c512, c512, stride=1)
        self.rgb_encoder_layer9 = BasicBlockGeo(c512, c1024, stride=2)
        self.rgb_encoder_layer10 = BasicBlockGeo(c1024, c1024, stride=1)
        self.rgb_decoder_layer8 = deconvbnrelu(c1024, c512)
        self.rgb_decoder_layer6 = deconvbnrelu(c512, c256)
        self.rgb_decoder_layer4 = deconvbnrelu(c256, c128)
        self.rgb_decoder_layer2 = deconvbnrelu(c128, c64)
        self.rgb_decoder_layer0 = deconvbnrelu(c64, c32)
        self.rgb_decoder_output = deconvbnrelu(c32, 2, kernel_size=3, stride=1, padding=1, output_padding=0)

        # semantic-guided branch
        self.segment_conv_init = convbnrelu(5, c32, kernel_size=5, stride=1, padding=2)
        self.segment_encoder_layer1 = BasicBlockGeo(c32, c64, stride=2)
        self.segment_encoder_layer2 = BasicBlockGeo(c64, c64, stride=1)
        self.segment_encoder_layer3 = BasicBlockGeo(c64 + c64, c128, stride=2)
        self.segment_encoder_layer4 = BasicBlockGeo(c128, c128, stride=1)
        self.segment_encoder_layer5 = BasicBlockGeo(c128 + c128, c256, stride=2)
        self.segment_encoder_layer6 = BasicBlockGeo(c256, c256, stride=1)
        self.segment_encoder_layer7 = BasicBlockGeo(c256 + c256, c512, stride=2)
        self.segment_encoder_layer8 = BasicBlockGeo(c512, c512, stride=1)
        self.segment_encoder_layer9 = BasicBlockGeo(c512 + c512, c1024, stride=2)
        self.segment_encoder_layer10 = BasicBlockGeo(c1024, c1024, stride=1)
        self.segment_decoder_layer1 = deconvbnrelu(c1024, c512)
        self.segment_decoder_layer2 = deconvbnrelu(c512, c256)
        self.segment_decoder_layer3 = deconvbnrelu(c256, c128)
        self.segment_decoder_layer4 = deconvbnrelu(c128, c64)
        self.segment_decoder_layer5 = deconvbnrelu(c64, c32)
        self.segment_decoder_layer6 = deconvbnrelu(
            c32, 2, kernel_size=3, stride=1, padding=1, output_padding=0
        )

        # depth-guided branch
        self.depth_conv_init = convbnrelu(3, c32, kernel_size=5, stride=1, padding=2)
        self.depth_layer1 = BasicBlockGeo(c32, c64, stride=2)
        self.depth_layer2 = BasicBlockGeo(c64, c64, stride=1)
        self.depth_layer3 = BasicBlockGeo(d192, d192, stride=2)
        self.depth_layer4 = BasicBlockGeo(d192, d192, stride=1)
        self.depth_layer5 = BasicBlockGeo(d448, d448, stride=2)
        self.depth_layer6 = BasicBlockGeo(d448, d448, stride=1)
        self.depth_layer7 = BasicBlockGeo(d960, d960, stride=2)
        self.depth_layer8 = BasicBlockGeo(d960, d960, stride=1)
        self.depth_layer9 = BasicBlockGeo(d1984, d1984, stride=2)
        self.depth_layer10 = BasicBlockGeo(d1984, d1984, stride=1)
        self.decoder_layer0 = deconvbnrelu(d1984, c1024, kernel_size=1, stride=1, padding=0, output_padding=0)
        self.decoder_layer1 = deconvbnrelu(c1024, d960)
        self.decoder_layer2 = deconvbnrelu(d960, d448)
        self.decoder_layer3 = deconvbnrelu(d448, d192)
        self.decoder_layer4 = deconvbnrelu(d192, c64)
        self.decoder_layer5 = deconvbnrelu(c64, c32)
        self.decoder_layer6 = convbnrelu(c32, 2, kernel_size=3, stride=1, padding=1)

        self.softmax = nn.Softmax(dim=1)
        # PyTorch default initialisation, as in the reference (its weights_init has no effect).
        set_weight_memory_format(self, self.channels_last)
        self.register_load_state_dict_post_hook(_restore_weight_layout)

    @property
    def channels_last(self) -> bool:
        """NHWC activations and channels-last conv weights (set to switch; converts the weights)."""
        return self._channels_last

    @channels_last.setter
    def channels_last(self, value: bool) -> None:
        self._channels_last = bool(value)
        set_weight_memory_format(self, self._channels_last)

    def _use_ckpt(self) -> bool:
        return self.memory_efficient and self.training and torch.is_grad_enabled()

    def _applier(self) -> _Apply:
        """``apply(module, x, level=...)``: runs a module, checkpointed in memory-efficient training when it
        touches maps at level <= ``_HEAVY_LEVEL`` (the high-resolution activations dominate memory)."""
        ck = self._use_ckpt()

        def apply(module: nn.Module, x: torch.Tensor, *, level: int) -> torch.Tensor:
            return checkpointed(module, x) if ck and level <= _HEAVY_LEVEL else module(x)

        return apply

    def _encode(
        self, branch: str, x: torch.Tensor, apply: _Apply, guides: Mapping[int, tuple[torch.Tensor, ...]]
    ) -> list[torch.Tensor]:
        """Encoder outputs per level 0..5 (stem, then each level's stride-1 block, before any fusion).

        At levels 1..4 a branch with fusers feeds its next stage with ``fuser(cat(guides[level], output))``.
        """
        blocks = [getattr(self, name) for name in _ENCODERS[branch]]
        fusers = [getattr(self, name) for name in _FUSERS.get(branch, ())]
        h = apply(getattr(self, _STEMS[branch]), x, level=0)
        outputs = [h]
        for level in range(1, _LEVELS + 1):
            down, keep = blocks[2 * level - 2], blocks[2 * level - 1]
            h = apply(keep, apply(down, h, level=level - 1), level=level)
            outputs.append(h)
            if fusers and level < _LEVELS:
                h = apply(fusers[level - 1], torch.cat((*guides[level], h), 1), level=level)
        return outputs

    def _decode_colour(
        self, skips: list[torch.Tensor], apply: _Apply
    ) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
        """Colour decoder: each block's output plus the encoder skip of its level; returns those sums per
        level 4..0 and the head output."""
        h, merged = skips[_LEVELS], {}
        for level, name in zip(range(_LEVELS - 1, -1, -1), _DECODERS["colour"]):
            h = apply(getattr(self, name), h, level=level) + skips[level]
            merged[level] = h
        return merged, apply(getattr(self, _HEADS["colour"]), h, level=0)

    def _decode_guided(
        self, branch: str, start: torch.Tensor, skips: list[torch.Tensor], apply: _Apply
    ) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
        """Semantic/depth decoder: from ``start`` (bottleneck level), each block takes the previous output
        plus the encoder skip one level below it; returns the block outputs per level 4..0 and the head."""
        blocks = [getattr(self, name) for name in _DECODERS[branch]]
        h = apply(blocks[0], start, level=_LEVELS - 1)
        decoded = {_LEVELS - 1: h}
        for level, block in zip(range(_LEVELS - 2, -1, -1), blocks[1:]):
            h = apply(block, h + skips[level + 1], level=level)
            decoded[level] = h
        return decoded, apply(getattr(self, _HEADS[branch]), h, level=0)

    def forward(
        self, inputs: Mapping[str, torch.Tensor], return_features: bool = False
    ) -> dict[str, torch.Tensor]:
        rgb, semantic, d = validate_inputs(inputs)
        if self.channels_last:
            # NHWC activations: oneDNN (CPU) and cuDNN run these convolutions without layout reorders.
            # Every later activation inherits the format from the convolutions.
            rgb, semantic, d = (t.contiguous(memory_format=torch.channels_last) for t in (rgb, semantic, d))
        apply = self._applier()
        no_guides: dict[int, tuple[torch.Tensor, ...]] = {}

        # colour-guided branch: a U-Net whose decoder sums guide the two other branches
        colour_skips = self._encode("colour", torch.cat((rgb, d), dim=1), apply, no_guides)
        colour, colour_head = self._decode_colour(colour_skips, apply)
        depth_c, conf_c = torch.chunk(colour_head, 2, dim=1)

        # semantic-guided branch, fused with the colour decoder at levels 1..4
        colour_guides = {level: (colour[level],) for level in range(1, _LEVELS)}
        sem_skips = self._encode("semantic", torch.cat((semantic, d, depth_c), dim=1), apply, colour_guides)
        bottleneck = colour_skips[_LEVELS] + sem_skips[_LEVELS]
        sem, sem_head = self._decode_guided("semantic", bottleneck, sem_skips, apply)
        depth_s, conf_s = torch.chunk(sem_head, 2, dim=1)

        # depth-guided branch, fused with both decoders; its decoder starts from the semantic bottleneck
        both_guides = {level: (colour[level], sem[level]) for level in range(1, _LEVELS)}
        dep_skips = self._encode("depth", torch.cat((d, depth_c, depth_s), dim=1), apply, both_guides)
        start = bottleneck + apply(self.decoder_layer0, dep_skips[_LEVELS], level=_LEVELS)
        dep, dep_head = self._decode_guided("depth", start, dep_skips, apply)
        depth_d, conf_d = torch.chunk(dep_head, 2, dim=1)

        weights = self.softmax(torch.cat((conf_c, conf_s, conf_d), dim=1))
        w_c, w_s, w_d = torch.chunk(weights, 3, dim=1)
        fused = w_c * depth_c + w_d * depth_d + w_s * depth_s  # summation order fixed: outputs stay bit-exact

        # plain NCHW-contiguous outputs whatever the internal layout (1-channel maps: a cheap copy at most)
        named = {
            "depth": fused, "rgb_depth": depth_c, "semantic_depth": depth_s, "d_depth": depth_d,
            "rgb_conf": w_c, "semantic_conf": w_s, "d_conf": w_d,
        }
        out = {key: value.contiguous() for key, value in named.items()}
        if return_features:
            out["feature_s1"] = torch.cat((colour[0], sem[0], dep[0]), 1)
            out["feature_s2"] = torch.cat((colour[1], sem[1], dep[1]), 1)
        return out


class SemAttNet(nn.Module):
    """Full SemAttNet: :class:`SemAttNetBackbone` under ``.backbone`` + dilated (atrous) CSPN++ head.

    ``forward(inputs)`` returns a dict with ``depth`` (refined, the supervised/evaluated output), ``coarse``
    (true backbone fusion), ``refined_s2`` (after the dilated stage; the full-resolution stage's seed and
    anchor) and the backbone's branch depths and softmaxed confidences.

    Options:
        width_mult: channel multiplier (1.0 = published model).
        memory_efficient: in training (grad enabled) checkpoint the high-resolution backbone layers and the
            head's guide layers; numerics, gradients and BN statistics are unchanged.
        channels_last: run the convolutions on NHWC activations (faster with oneDNN/cuDNN; outputs are
            returned NCHW-contiguous).
        bitwise_parity: evaluate the dead ``dimhalf_s2``/``att_12`` blend (``x0 = r*att0 + r*att1``) and use
            the reference-style naive propagation, to follow the reference float rounding as closely as possible.
        nan_policy: what to do when the affinity normalisation produces NaN ('raise', 'warn', 'ignore').
        n_iter: propagation iterations per stage (6 in the reference).

    ``contract.unused_parameters`` lists ``att_12``/``dimhalf_s2``: without ``bitwise_parity`` they get no
    gradient (the default, and what training uses).
    """

    contract: ClassVar[ModelContract] = ModelContract(
        task="completion",
        inputs=_INPUTS,
        outputs=(DEPTH, "coarse", "refined_s2", *_BRANCH_OUTPUTS),
        input_multiple=_MULTIPLE,
        image_range=(0.0, 255.0),
        unused_parameters=("att_12.", "dimhalf_s2."),
        checkpoint_filter=checkpoint_filter,
    )

    def __init__(
        self,
        width_mult: float = 1.0,
        memory_efficient: bool = True,
        bitwise_parity: bool = False,
        nan_policy: NanPolicy = "raise",
        n_iter: int = 6,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        if nan_policy not in ("raise", "warn", "ignore"):
            raise ValueError(f"nan_policy must be 'raise', 'warn' or 'ignore', got {nan_policy!r}")
        self.backbone = SemAttNetBackbone(
            width_mult=width_mult, memory_efficient=memory_efficient, channels_last=channels_last
        )
        c1, c2 = self.backbone.channels["s1"], self.backbone.channels["s2"]
        self.kernel_conf_layer = convbn(c1, 3)
        self.mask_layer = convbn(c1, 1)
        self.iter_guide_layer3 = CSPNGenerate(c1, 3)
        self.iter_guide_layer5 = CSPNGenerate(c1, 5)
        self.iter_guide_layer7 = CSPNGenerate(c1, 7)
        self.kernel_conf_layer_s2 = convbn(c2, 3)
        self.mask_layer_s2 = convbn(c2, 1)
        self.iter_guide_layer3_s2 = CSPNGenerate(c2, 3)
        self.iter_guide_layer5_s2 = CSPNGenerate(c2, 5)
        self.iter_guide_layer7_s2 = CSPNGenerate(c2, 7)
        # Dead in the reference (in-place aliasing makes the blend an identity); kept for checkpoints.
        self.dimhalf_s2 = convbnrelu(c2, c1, 1, 1, 0)
        self.att_12 = convbnrelu(2 * c1, 2)
        self.upsample = nn.UpsamplingBilinear2d(scale_factor=2)
        self.downsample = SparseDownSampleClose(stride=2)
        self.softmax = nn.Softmax(dim=1)
        self.bitwise_parity = bool(bitwise_parity)
        self.nan_policy: NanPolicy = nan_policy
        self.n_iter = int(n_iter)
        self.kernel_sizes = (3, 5, 7)
        set_weight_memory_format(self, channels_last)
        self.register_load_state_dict_post_hook(_restore_weight_layout)

    @property
    def memory_efficient(self) -> bool:
        return self.backbone.memory_efficient

    @memory_efficient.setter
    def memory_efficient(self, value: bool) -> None:
        self.backbone.memory_efficient = bool(value)

    @property
    def channels_last(self) -> bool:
        return self.backbone.channels_last

    @channels_last.setter
    def channels_last(self, value: bool) -> None:
        self.backbone.channels_last = bool(value)
        set_weight_memory_format(self, bool(value))

    @property
    def width_mult(self) -> float:
        return self.backbone.width_mult

    def _stage(
        self,
        feature: torch.Tensor,
        layers: tuple[nn.Module, ...],
        conf_layer: nn.Module,
        mask_layer: nn.Module,
        h0: torch.Tensor,
        x0: torch.Tensor,
        d: torch.Tensor,
        valid: torch.Tensor,
        suffix: str,
        ck: bool,
    ) -> torch.Tensor:
        """One propagation stage: 3 kernel sizes × ``n_iter`` steps, confidence-weighted sum."""

        def prep(feat: torch.Tensor) -> tuple[torch.Tensor, ...]:
            mask = torch.sigmoid(mask_layer(feat)) * valid
            kconf = self.softmax(conf_layer(feat))
            outs: list[torch.Tensor] = [mask, kconf]
            for k, layer in zip(self.kernel_sizes, layers):
                g, g_mid = normalize_guide(
                    layer(feat), nan_policy=self.nan_policy, name=f"iter_guide_layer{k}{suffix}"
                )
                outs += [g if self.bitwise_parity else shift_guide(g, k), g_mid]
            return tuple(outs)

        prepared = checkpointed(prep, feature) if ck else prep(feature)
        mask, kconf = prepared[0], prepared[1]
        results = []
        for i, k in enumerate(self.kernel_sizes):
            g, g_mid = prepared[2 + 2 * i], prepared[3 + 2 * i]
            if self.bitwise_parity:
                x = cspn_chain_reference(g, g_mid, h0, mask, d, k, self.n_iter, x0=x0)
            else:
                x = cspn_chain(g, g_mid, h0, mask, d, k, self.n_iter, x0=x0)
            results.append(x)
        return kconf[:, 0:1] * results[0] + kconf[:, 1:2] * results[1] + kconf[:, 2:3] * results[2]

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        _, _, d = validate_inputs(inputs)
        valid = torch.where(d > 0, torch.ones_like(d), torch.zeros_like(d))
        bb = self.backbone(inputs, return_features=True)
        feature_s1, feature_s2 = bb.pop("feature_s1"), bb.pop("feature_s2")
        coarse = bb["depth"]
        ck = self.backbone._use_ckpt()

        # dilated stage: the 4 polyphase sub-images (00, 01, 10, 11) as 4 channels, propagated together
        d_s2, valid_s2 = self.downsample(d, valid)
        phases = F.pixel_unshuffle(coarse, 2)
        s2_layers = (self.iter_guide_layer3_s2, self.iter_guide_layer5_s2, self.iter_guide_layer7_s2)
        res_s2 = self._stage(
            feature_s2, s2_layers, self.kernel_conf_layer_s2, self.mask_layer_s2,
            phases, phases, d_s2, valid_s2, "_s2", ck,
        )  # fmt: skip
        refined_s2 = F.pixel_shuffle(res_s2, 2)

        # full-resolution stage, seeded and anchored with the s2-refined depth (the reference's aliasing)
        x0 = refined_s2
        if self.bitwise_parity:
            coarse_up = self.upsample(self.dimhalf_s2(feature_s2))
            blend = self.softmax(self.att_12(torch.cat((feature_s1, coarse_up), 1)))
            x0 = refined_s2 * blend[:, 0:1] + refined_s2 * blend[:, 1:2]
        s1_layers = (self.iter_guide_layer3, self.iter_guide_layer5, self.iter_guide_layer7)
        refined = self._stage(
            feature_s1, s1_layers, self.kernel_conf_layer, self.mask_layer,
            refined_s2, x0, d, valid, "", ck,
        )  # fmt: skip

        out = {"depth": refined, "coarse": coarse, "refined_s2": refined_s2}
        for key in _BRANCH_OUTPUTS:
            out[key] = bb[key]
        return out




@builds(SemAttNetBackbone)
def semattnet_bb(width_mult: float = 1.0, **kwargs: Any) -> SemAttNetBackbone:
    """SemAttNet three-branch backbone alone (reference ``-n bb``; 360,717,636 parameters at width 1)."""
    return SemAttNetBackbone(width_mult=width_mult, **kwargs)


@builds(SemAttNet)
def semattnet(width_mult: float = 1.0, **kwargs: Any) -> SemAttNet:
    """Full SemAttNet, backbone + dilated CSPN++ head (reference ``-n sem_att``; 360,957,784 parameters)."""
    return SemAttNet(width_mult=width_mult, **kwargs)
