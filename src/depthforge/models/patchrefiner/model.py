"""PatchRefiner (Li, Bhat, Wonka, ECCV 2024): high-resolution metric depth from a coarse and a fine ZoeDepth.

* ``coarse_branch``: a ZoeDepth-N on the whole image resized to the process shape (384 x 512); frozen (no
  gradients, always in evaluation mode, run under ``no_grad``).
* ``refiner_fine_branch``: a second ZoeDepth-N on each tile resized to the process shape; initialised with the
  coarse branch's weights at construction, trained.
* ``refiner_fusion_model``: a :class:`~depthforge.models.patchrefiner.fusion.FusionUnet` fed with the coarse
  maps RoI-aligned to the tile (one copy of the whole-image maps, indexed per tile), the fine maps and both
  depths; with the ``offset_coarse`` target it predicts a residual on the RoI-aligned coarse depth and the
  tile depth is ``max(0, coarse + residual)``.

The state dict has the 1117 keys of the reference (``coarse_branch.*``, ``refiner_fine_branch.*``,
``refiner_fusion_model.*``). :meth:`PatchRefiner.forward` trains on a batch of crops;
:meth:`PatchRefiner.infer` predicts a whole image with the tiling modes ``m1``, ``m2`` and ``r<N>``
(:mod:`.tiling`).
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Iterator, Mapping, Sequence
from numbers import Integral
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from depthforge.batch import BOXES, DEPTH, IMAGE, IMAGE_LR
from depthforge.models.contract import ModelContract, builds
from depthforge.models.layers.beit import reusing_position_bias
from depthforge.models.patchrefiner.checkpoint import checkpoint_filter
from depthforge.models.patchrefiner.fusion import FusionUnet
from depthforge.models.patchrefiner.roi_align import roi_align
from depthforge.models.patchrefiner.tiling import (
    RunningAverage,
    Tile,
    TileConfig,
    blend_mask,
    fit_image,
    grid_tiles,
    parse_mode,
    random_tiles,
    shifted_grids,
    tile_boxes,
)
from depthforge.models.zoedepth.model import FEATURE_KEYS, ZoeDepth

__all__ = ["PROCESS_SHAPE", "REFINER_TARGETS", "PatchRefiner", "check_process_shape", "patchrefiner"]

PROCESS_SHAPE = (384, 512)
"""Size at which both branches see the whole image and every tile."""
REFINER_TARGETS = ("offset_coarse", "offset_fine", "direct")
_OUTPUTS = (DEPTH, "coarse_depth", "fine_depth")
_FINE = "refiner_fine_branch."
_UNUSED = (
    # The fine ZoeDepth's classifier and refinenet4's first residual unit never enter its forward pass
    # (measured with a backward pass; the frozen coarse branch is excluded from DDP anyway).
    _FINE + "core.core.pretrained.model.fc_norm.",
    _FINE + "core.core.pretrained.model.head.",
    _FINE + "core.core.scratch.refinenet4.resConfUnit1.",
)


def check_process_shape(shape: Sequence[int]) -> tuple[int, int]:
    """``shape`` as ``(height, width)``; a ``ValueError`` unless it is two positive multiples of 32."""
    ok = len(shape) == 2 and all(isinstance(s, Integral) and not isinstance(s, bool) for s in shape)
    if not ok or min(shape) <= 0 or shape[0] % 32 or shape[1] % 32:
        raise ValueError(f"process_shape must be two positive multiples of 32, got {tuple(shape)}")
    return int(shape[0]), int(shape[1])


def _resize(x: torch.Tensor, size: Sequence[int]) -> torch.Tensor:
    """The reference's image resize (ZoeDepth ``Resize``): bilinear, ``align_corners=True``, no antialias."""
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)


class PatchRefiner(nn.Module):
    """Coarse ZoeDepth + fine ZoeDepth + FusionUnet (see the module docstring).

    ``branch_kwargs`` are the ZoeDepth arguments of both branches (empty: the published ZoeDepth-N).
    ``min_depth``/``max_depth`` bound the training loss's valid range; ``max_depth`` also scales the
    ``direct`` target. ``process_shape`` is the size the branches see (384 x 512 for the published models).
    """

    contract: ClassVar[ModelContract] = ModelContract(
        task="monocular",
        inputs=(IMAGE, IMAGE_LR, BOXES),
        outputs=_OUTPUTS,
        input_multiple=32,
        image_range=(0.0, 1.0),
        unused_parameters=_UNUSED,
        checkpoint_filter=checkpoint_filter,
    )

    def __init__(
        self,
        *,
        branch_kwargs: Mapping[str, Any] | None = None,
        min_depth: float = 1e-3,
        max_depth: float = 80.0,
        refiner_target: str = "offset_coarse",
        process_shape: Sequence[int] = PROCESS_SHAPE,
    ) -> None:
        super().__init__()
        if refiner_target not in REFINER_TARGETS:
            raise ValueError(
                f"unknown refiner_target {refiner_target!r}: use one of {', '.join(REFINER_TARGETS)}"
            )
        shape = check_process_shape(process_shape)
        # both branches share the depth range, as the reference's configurations do
        kwargs = {**dict(branch_kwargs or {}), "min_depth": float(min_depth), "max_depth": float(max_depth)}
        self.min_depth = float(min_depth)
        self.max_depth = float(max_depth)
        self.refiner_target = refiner_target
        self.process_shape: tuple[int, int] = shape
        self.coarse_branch = ZoeDepth(**kwargs)
        self.refiner_fine_branch = ZoeDepth(**kwargs)
        # As the reference: the fine branch starts from the coarse branch's weights.
        self.refiner_fine_branch.load_state_dict(self.coarse_branch.state_dict())
        features = int(kwargs.get("features", 256))
        head = int(kwargs.get("head_features", 32))
        temp = (head, *([features] * (len(FEATURE_KEYS) - 1)))
        self.refiner_fusion_model = FusionUnet(
            input_chl=tuple(2 * c for c in temp), temp_chl=temp, dec_chl=tuple(reversed(temp[:-1]))
        )
        self.coarse_branch.requires_grad_(False)
        self.coarse_branch.eval()

    def train(self, mode: bool = True) -> PatchRefiner:
        """Set the training mode; the frozen coarse branch always stays in evaluation mode."""
        super().train(mode)
        self.coarse_branch.eval()
        return self

    # -- building blocks ------------------------------------------------------------------------------------

    @staticmethod
    def _maps(out: Mapping[str, torch.Tensor]) -> list[torch.Tensor]:
        """The six feature maps of a ZoeDepth output, finest first (the fusion network's order)."""
        return [out[k] for k in reversed(FEATURE_KEYS)]

    def coarse_forward(self, image_lr: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Coarse maps (finest first) and coarse depth of whole images at the process shape (no gradients)."""
        if self.coarse_branch.training:
            self.coarse_branch.eval()
        with torch.no_grad():
            out = self.coarse_branch(image_lr, return_features=True)
        return self._maps(out), out[DEPTH]

    def coarse_roi(
        self, maps: Sequence[torch.Tensor], depth: torch.Tensor, rois: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Each box's region of every coarse map (and the depth), resampled to that map's full size.

        ``rois``: K x 5 ``(batch index, x1, y1, x2, y2)`` in the coarse frame (the process shape).
        """
        frame_h = depth.shape[-2]
        rois_maps = [roi_align(m, rois, m.shape[-2:], m.shape[-2] / frame_h) for m in maps]
        return rois_maps, roi_align(depth, rois, depth.shape[-2:], 1.0)

    def refine(
        self, crops: torch.Tensor, coarse_maps: Sequence[torch.Tensor], coarse_depth: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """Fine branch on the crops and fusion with the RoI-aligned coarse maps and depth."""
        fine = self.refiner_fine_branch(crops, return_features=True)
        fine_depth = fine[DEPTH]
        base = {"offset_coarse": coarse_depth, "offset_fine": fine_depth}.get(self.refiner_target)
        depth = self.refiner_fusion_model(
            coarse_maps, self._maps(fine), coarse_depth, fine_depth, update_base=base
        )
        if self.refiner_target == "direct":
            depth = torch.sigmoid(depth) * self.max_depth
        return {DEPTH: depth, "coarse_depth": coarse_depth, "fine_depth": fine_depth}

    # -- training forward -----------------------------------------------------------------------------------

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Depth of a batch of crops (training and validation on crops).

        ``batch``: ``image`` N x 3 x h x w, the crops resized to the process shape; ``image_lr``
        N x 3 x h x w, the whole images resized to the same shape; ``boxes`` N x 4, each crop's
        ``(x1, y1, x2, y2)`` in ``image_lr`` pixels. Returns ``depth`` (the refined crop depth),
        ``coarse_depth`` (the coarse depth RoI-aligned to the crop) and ``fine_depth``, each N x 1 x h x w.
        """
        missing = [k for k in (IMAGE, IMAGE_LR, BOXES) if k not in batch]
        if missing:
            raise KeyError(
                f"PatchRefiner input is missing key(s) {missing}; required: image, image_lr, boxes"
            )
        image, image_lr, boxes = batch[IMAGE], batch[IMAGE_LR], batch[BOXES]
        if image.dim() != 4 or image.shape != image_lr.shape:
            raise ValueError(
                f"PatchRefiner needs crops and whole images of one shape N x 3 x h x w; got image "
                f"{tuple(image.shape)}, image_lr {tuple(image_lr.shape)}"
            )
        if boxes.shape != (image.shape[0], 4):
            raise ValueError(
                f"boxes must be N x 4 (x1, y1, x2, y2), got {tuple(boxes.shape)} for N={image.shape[0]}"
            )
        maps, depth = self.coarse_forward(image_lr)
        index = torch.arange(image.shape[0], device=boxes.device, dtype=boxes.dtype).unsqueeze(1)
        rois = torch.cat([index, boxes], dim=1)
        coarse_maps, coarse_depth = self.coarse_roi(maps, depth, rois)
        return self.refine(image, coarse_maps, coarse_depth)

    def reference_state_dict(self) -> dict[str, torch.Tensor]:
        """What the reference's training checkpoints hold: every entry but the frozen coarse branch's (582)."""
        return {k: v for k, v in self.state_dict().items() if "coarse_branch." not in k}

    # -- tiled inference ------------------------------------------------------------------------------------

    def _tile_predictions(
        self,
        image: torch.Tensor,
        tiles: Sequence[Tile],
        cfg: TileConfig,
        coarse: tuple[list[torch.Tensor], torch.Tensor],
        chunk_size: int,
    ) -> Iterator[tuple[Tile, torch.Tensor, torch.Tensor]]:
        """``(tile, depth, fine depth)`` per tile, in order; ``chunk_size`` tiles per network call."""
        th, tw = cfg.tile_shape
        boxes = tile_boxes(tiles, cfg)
        maps, depth = coarse
        for start in range(0, len(tiles), chunk_size):
            chunk = tiles[start : start + chunk_size]
            crops = torch.cat(
                [
                    _resize(image[:, :, t.raw_y : t.raw_y + th, t.raw_x : t.raw_x + tw], self.process_shape)
                    for t in chunk
                ]
            )
            rois = torch.cat([torch.zeros(len(chunk), 1), boxes[start : start + len(chunk)]], dim=1)
            coarse_maps, coarse_depth = self.coarse_roi(maps, depth, rois.to(depth.device))
            out = self.refine(crops, coarse_maps, coarse_depth)
            for i, tile in enumerate(chunk):
                yield tile, out[DEPTH][i, 0], out["fine_depth"][i, 0]

    @torch.no_grad()
    def infer(
        self,
        image: torch.Tensor,
        mode: str = "m1",
        patch_split_num: Sequence[int] = (4, 4),
        process_num: int = 4,
        image_lr: torch.Tensor | None = None,
        seed: int | None = None,
        output: str = "input",
        fit: str = "error",
        chunk_size: int = 1,
        return_tiles: bool = False,
        progress: bool = False,
    ) -> dict[str, torch.Tensor]:
        """Depth of one whole image by tiling (modes ``m1``, ``m2``, ``r<N>``; see :mod:`.tiling`).

        * ``image``: 1 x 3 x H x W in [0, 1]; ``patch_split_num``: tiles per column and row of the grid.
        * ``image_lr``: the whole image at the process shape; default the reference's resize of ``image``
          (bilinear, ``align_corners=True``).
        * ``process_num``: the reference's tiles per forward. It sets the ``r<N>`` schedule
          (``N // process_num`` rounds of ``process_num`` tiles sharing one column); memory does not
          depend on it: at most ``chunk_size`` tiles go through the network at once. The fine branch keeps
          its BEiT position bias for the tiles' grid while the call runs (about 0.9 GB at full size; see
          :func:`~depthforge.models.layers.beit.reusing_position_bias`).
        * ``seed``: seeds the ``r<N>`` draws (``random.Random(seed)``; ``None``: not reproducible).
        * ``output``: ``"input"`` (default) returns ``depth`` at the input size, the tiling's canvas resized
          bilinearly (``align_corners=False``, the resize of the reference's evaluation); ``"process"``
          returns the canvas as the reference does (``384 h x 512 w`` for ``m1``/``m2``, the (fitted) image
          size for ``r<N>``).
        * ``fit``: what to do when the tiling does not divide the image: ``"error"`` (default), ``"pad"``
          (replicate the bottom/right edges; ``depth`` comes back at the input size) or ``"crop"`` (use the
          top-left region that divides; ``depth`` covers that region).

        Returns ``depth`` (1 x 1 x ..., float32) and ``coarse_depth`` (1 x 1 x process shape); with
        ``return_tiles`` also ``tile_depth`` and ``tile_fine_depth`` (K x 1 x process shape, in processing
        order) and ``tile_corners`` (K x 2 raw top-left corners). ``progress`` shows a bar over the tiles.
        """
        if not torch.is_tensor(image) or image.dim() != 4 or image.shape[:2] != (1, 3):
            shape = tuple(image.shape) if torch.is_tensor(image) else type(image).__name__
            raise ValueError(f"PatchRefiner.infer takes one image, 1 x 3 x H x W; got {shape}")
        if not image.is_floating_point():  # 0..255 pixels would otherwise run as a blown-out image
            raise ValueError(f"PatchRefiner.infer takes a float image in [0, 1], got {image.dtype} (rescale)")
        if output not in ("input", "process"):
            raise ValueError(f"unknown output {output!r}: use 'input' or 'process'")
        kind, rounds_total = parse_mode(mode)
        if int(process_num) < 1 or int(chunk_size) < 1:
            raise ValueError(f"process_num and chunk_size must be >= 1, got {process_num} and {chunk_size}")
        process_num, chunk_size = int(process_num), int(chunk_size)
        split = (int(patch_split_num[0]), int(patch_split_num[1]))
        height, width = image.shape[-2:]
        fitted = fit_image((height, width), split, mode, fit)
        if fitted != (height, width):
            if image_lr is not None:
                raise ValueError(f"image_lr cannot be given with fit={fit!r} changing the image to {fitted}")
            if fit == "pad":
                image = F.pad(image, (0, fitted[1] - width, 0, fitted[0] - height), mode="replicate")
            else:
                image = image[:, :, : fitted[0], : fitted[1]]
        param = next(self.parameters())
        dtype = param.dtype
        image = image.to(device=param.device, dtype=dtype)
        cfg = TileConfig(fitted, split, self.process_shape)
        if image_lr is None:
            image_lr = _resize(image, self.process_shape)
        elif tuple(image_lr.shape) != (1, 3, *self.process_shape) or not image_lr.is_floating_point():
            raise ValueError(
                f"image_lr must be a float 1 x 3 x {self.process_shape[0]} x {self.process_shape[1]} image in "
                f"[0, 1], got {image_lr.dtype} {tuple(image_lr.shape)}"
            )
        coarse = self.coarse_forward(image_lr.to(device=param.device, dtype=dtype))
        record: list[tuple[Tile, torch.Tensor, torch.Tensor]] = []
        total = split[0] * split[1]
        if kind != "m1":
            total += sum(len(g) for g in shifted_grids(cfg))
        if kind == "r":
            total += rounds_total // process_num * process_num
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"tiles ({mode})", unit="tile", leave=False, disable=not progress)

        def predictions(tiles: Sequence[Tile]) -> Iterator[tuple[Tile, torch.Tensor]]:
            for tile, depth, fine in self._tile_predictions(image, tiles, cfg, coarse, chunk_size):
                if return_tiles:
                    record.append((tile, depth, fine))
                bar.update(1)
                yield tile, depth

        # every tile runs the fine branch at one grid with the same weights: its position bias is built once
        with reusing_position_bias(self.refiner_fine_branch):
            ph, pw = self.process_shape
            mask = blend_mask(ph, pw).to(image.device)
            mosaic = torch.zeros(cfg.canvas_shape, dtype=torch.float32, device=image.device)
            weights = torch.zeros_like(mosaic)
            for tile, depth in predictions(grid_tiles(cfg, (0, 0), (0, 0))):
                mosaic[tile.canvas_y : tile.canvas_y + ph, tile.canvas_x : tile.canvas_x + pw] = depth
                weights[tile.canvas_y : tile.canvas_y + ph, tile.canvas_x : tile.canvas_x + pw] = mask
            canvas = RunningAverage(mosaic, weights)
            if kind != "m1":
                for grid in shifted_grids(cfg):
                    for tile, depth in predictions(grid):
                        canvas.update(depth, mask, tile.canvas_y, tile.canvas_x)
            if kind == "r":
                th, tw = cfg.tile_shape
                canvas.resize(cfg.image_shape)
                raw_mask = blend_mask(th, tw).to(image.device) + 1e-3
                rng = random.Random(seed)
                for _ in range(rounds_total // process_num):
                    for tile, depth in predictions(random_tiles(rng, cfg, process_num)):
                        up = F.interpolate(depth[None, None], size=(th, tw))[0, 0]  # nearest, as the reference
                        canvas.update(up, raw_mask, tile.raw_y, tile.raw_x)
        bar.close()
        result = canvas.average[None, None]
        if output == "input":
            if tuple(result.shape[-2:]) != cfg.image_shape:
                result = F.interpolate(result, size=cfg.image_shape, mode="bilinear", align_corners=False)
            if fit == "pad":
                result = result[:, :, :height, :width]
        out = {DEPTH: result, "coarse_depth": coarse[1]}
        if return_tiles:
            out["tile_depth"] = torch.stack([d for _, d, _ in record])[:, None]
            out["tile_fine_depth"] = torch.stack([f for _, _, f in record])[:, None]
            out["tile_corners"] = torch.tensor([[t.raw_y, t.raw_x] for t, _, _ in record], dtype=torch.int64)
        return out


@builds(PatchRefiner)
def patchrefiner(
    *,
    min_depth: float = 1e-3,
    max_depth: float = 80.0,
    refiner_target: str = "offset_coarse",
    process_shape: Sequence[int] = PROCESS_SHAPE,
    **branch_kwargs: Any,
) -> PatchRefiner:
    """PatchRefiner with two ZoeDepth-N branches (713,626,152 parameters by default).

    The other keyword arguments are the ZoeDepth architecture of both branches
    (:class:`~depthforge.models.zoedepth.ZoeDepth`), e.g. a reduced one for tests; the factory's signature
    lists them, so configurations are checked against them.
    """
    return PatchRefiner(
        branch_kwargs=branch_kwargs,
        min_depth=min_depth,
        max_depth=max_depth,
        refiner_target=refiner_target,
        process_shape=process_shape,
    )


def _factory_signature() -> inspect.Signature:
    """The factory's own keywords followed by the branches' ZoeDepth keywords (no ``**kwargs``)."""
    own = [p for p in inspect.signature(patchrefiner).parameters.values() if p.kind is p.KEYWORD_ONLY]
    names = {p.name for p in own}
    branch = [
        p.replace(kind=p.KEYWORD_ONLY)
        for p in inspect.signature(ZoeDepth).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in names
    ]
    return inspect.Signature([*own, *branch], return_annotation=PatchRefiner)


patchrefiner.__signature__ = _factory_signature()  # type: ignore[attr-defined]
