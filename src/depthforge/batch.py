"""The batch schema: one name for each thing a dataset yields and a model or task reads.

Every dataset item and every batch is a dict with these keys (a dataset yields the ones it has):

==========  ==============================  ===========================================================
key         type and shape (per batch)      meaning
==========  ==============================  ===========================================================
``image``   float32 N x 3 x H x W           RGB image; its value range is the model's
                                            (``ModelContract.image_range``: KITTI completion 0-255)
``sparse``  float32 N x 1 x H x W           sparse input depth in metres, 0 = no measurement
``semantic`` float32 N x 3 x H x W          semantic segmentation as a colour map, 0-255
``image_lr`` float32 N x 3 x h x w          the whole image resized to a model's process shape
                                            (PatchRefiner: 384 x 512; ``image`` then holds crops)
``boxes``   float32 N x 4                   each crop's ``(x1, y1, x2, y2)`` in ``image_lr`` pixels
``gt``      float32 N x 1 x H x W           ground-truth depth in metres, 0 = invalid
``valid``   bool N x 1 x H x W              optional explicit validity of ``gt``; absent: ``gt > 0``
``name``    list of str                     sample identifiers (file stems or dataset ids)
``pad``     int64 N                         set by the engine: 1 marks a sample repeated only to fill
                                            a process's evaluation shard; it is never scored
==========  ==============================  ===========================================================

Model outputs are dicts too; ``depth`` (float32 N x 1 x H x W, metres) is always present.
"""

from __future__ import annotations

IMAGE = "image"
SPARSE = "sparse"
SEMANTIC = "semantic"
GT = "gt"
VALID = "valid"
NAME = "name"
PAD = "pad"
DEPTH = "depth"
IMAGE_LR = "image_lr"
BOXES = "boxes"

__all__ = ["BOXES", "DEPTH", "GT", "IMAGE", "IMAGE_LR", "NAME", "PAD", "SEMANTIC", "SPARSE", "VALID"]
