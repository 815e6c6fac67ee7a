"""Structuring elements of IP-Basic (Ku, Harakeh, Waslander, CRV 2018).

All kernels are ``uint8`` arrays, as ``cv2.dilate`` / ``cv2.morphologyEx`` expect. The reference spellings
(``CROSS_KERNEL_3``, ``DIAMOND_KERNEL_5``, ...) are kept as aliases so ported code reads the same.
"""

from __future__ import annotations

import numpy as np


def _full(size: int) -> np.ndarray:
    return np.ones((size, size), np.uint8)


def _cross(size: int) -> np.ndarray:
    """Plus shape: centre row and centre column set."""
    kernel = np.zeros((size, size), np.uint8)
    kernel[size // 2, :] = 1
    kernel[:, size // 2] = 1
    return kernel


def _diamond(size: int) -> np.ndarray:
    """L1 ball: ``|dy| + |dx| <= size // 2``."""
    r = size // 2
    offsets = np.abs(np.arange(-r, r + 1))
    return (offsets[:, None] + offsets[None, :] <= r).astype(np.uint8)


FULL_KERNEL_3 = _full(3)
FULL_KERNEL_5 = _full(5)
FULL_KERNEL_7 = _full(7)
FULL_KERNEL_9 = _full(9)
FULL_KERNEL_31 = _full(31)

CROSS_3 = _cross(3)
CROSS_5 = _cross(5)
CROSS_7 = _cross(7)

DIAMOND_5 = _diamond(5)
DIAMOND_7 = _diamond(7)

# Reference names.
CROSS_KERNEL_3 = CROSS_3
CROSS_KERNEL_5 = CROSS_5
CROSS_KERNEL_7 = CROSS_7
DIAMOND_KERNEL_5 = DIAMOND_5
DIAMOND_KERNEL_7 = DIAMOND_7

for _k in (FULL_KERNEL_3, FULL_KERNEL_5, FULL_KERNEL_7, FULL_KERNEL_9, FULL_KERNEL_31,
           CROSS_3, CROSS_5, CROSS_7, DIAMOND_5, DIAMOND_7):
    _k.setflags(write=False)  # shared module constants: nobody may edit them in place
del _k

__all__ = [
    "FULL_KERNEL_3", "FULL_KERNEL_5", "FULL_KERNEL_7", "FULL_KERNEL_9", "FULL_KERNEL_31",
    "CROSS_3", "CROSS_5", "CROSS_7", "DIAMOND_5", "DIAMOND_7",
    "CROSS_KERNEL_3", "CROSS_KERNEL_5", "CROSS_KERNEL_7", "DIAMOND_KERNEL_5", "DIAMOND_KERNEL_7",
]
