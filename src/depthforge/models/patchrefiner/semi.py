"""PatchRefinerSemi: the teacher–student ("DSD") stage that carries synthetic-data detail to real data.

A student :class:`~depthforge.models.patchrefiner.model.PatchRefiner` (CityScapes coarse model, trained on
CityScapes) learns from ground truth and from a frozen teacher PatchRefiner trained on UnrealStereo4K. Each
training step the teacher sees the same whole image, crop and box as the student; its crop depth is the
pseudo label (``pseudo_depth``) that the task's scale-invariant detail loss compares with the student's.

Differences from the reference, with identical numbers: the teacher runs under ``no_grad`` and its unused
SILog is not computed. Evaluation and :meth:`infer` use the student only, and the reference checkpoint
holds the student's entries without a prefix, so it loads into a plain PatchRefiner.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from depthforge.batch import BOXES, DEPTH, IMAGE, IMAGE_LR
from depthforge.models.contract import CheckpointMapping, ModelContract, builds
from depthforge.models.patchrefiner.checkpoint import checkpoint_filter as refiner_filter
from depthforge.models.patchrefiner.model import PatchRefiner, patchrefiner

__all__ = ["STUDENT", "TEACHER", "PatchRefinerSemi", "patchrefiner_semi"]

STUDENT = "student_model"
TEACHER = "teacher_model"


def semi_checkpoint_filter(
    state_dict: Mapping[str, torch.Tensor], model: nn.Module, *, backbone_only: bool = False
) -> CheckpointMapping:
    """A whole semi model's state dict loads as is; any PatchRefiner or ZoeDepth layout goes to the student."""
    if any(k.startswith(STUDENT + ".") for k in state_dict):
        return CheckpointMapping(dict(state_dict), layout="semi")
    mapped = refiner_filter(state_dict, model.get_submodule(STUDENT), backbone_only=backbone_only)
    return CheckpointMapping(mapped.state_dict, target=STUDENT, layout=mapped.layout, ignored=mapped.ignored)


class PatchRefinerSemi(nn.Module):
    """A trainable student PatchRefiner and a frozen teacher PatchRefiner (see the module docstring)."""

    contract: ClassVar[ModelContract] = ModelContract(
        task="monocular",
        inputs=(IMAGE, IMAGE_LR, BOXES),
        outputs=(DEPTH, "coarse_depth", "fine_depth", "pseudo_depth"),
        input_multiple=PatchRefiner.contract.input_multiple,
        image_range=(0.0, 1.0),
        unused_parameters=tuple(f"{STUDENT}.{p}" for p in PatchRefiner.contract.unused_parameters),
        checkpoint_filter=semi_checkpoint_filter,
    )

    def __init__(self, student_model: PatchRefiner, teacher_model: PatchRefiner) -> None:
        super().__init__()
        self.student_model = student_model
        self.teacher_model = teacher_model
        self.teacher_model.requires_grad_(False)
        self.teacher_model.eval()

    @property
    def process_shape(self) -> tuple[int, int]:
        return self.student_model.process_shape

    def train(self, mode: bool = True) -> PatchRefinerSemi:
        """Set the student's mode; the teacher always stays in evaluation mode."""
        super().train(mode)
        self.teacher_model.eval()
        return self

    def forward(self, batch: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The student's outputs on a batch of crops, plus the teacher's crop depth as ``pseudo_depth``."""
        out = self.student_model(batch)
        if self.training:
            with torch.no_grad():
                out["pseudo_depth"] = self.teacher_model(batch)[DEPTH]
        return out

    def infer(self, image: torch.Tensor, *args: Any, **kwargs: Any) -> dict[str, torch.Tensor]:
        """The student's tiled inference (:meth:`PatchRefiner.infer`)."""
        return self.student_model.infer(image, *args, **kwargs)

    def reference_state_dict(self) -> dict[str, torch.Tensor]:
        """What the reference saves: the student's refiner entries, without a prefix (582 keys)."""
        return self.student_model.reference_state_dict()


@builds(PatchRefinerSemi)
def patchrefiner_semi(**kwargs: Any) -> PatchRefinerSemi:
    """Student and teacher PatchRefiners of one architecture (``patchrefiner``'s keyword arguments)."""
    return PatchRefinerSemi(patchrefiner(**kwargs), patchrefiner(**kwargs))


patchrefiner_semi.__signature__ = inspect.signature(patchrefiner).replace(  # type: ignore[attr-defined]
    return_annotation=PatchRefinerSemi)
