"""Semantic classes of the synthetic scenes, as CityScapes label ids and colours."""

from __future__ import annotations

import numpy as np

# CityScapes ``labelIds`` so that colour maps and id maps match the public palette.
ROAD = 7
SIDEWALK = 8
BUILDING = 11
POLE = 17
TRAFFIC_SIGN = 20
VEGETATION = 21
TERRAIN = 22
SKY = 23
CAR = 26

CLASS_NAMES: dict[int, str] = {
    ROAD: "road",
    SIDEWALK: "sidewalk",
    BUILDING: "building",
    POLE: "pole",
    TRAFFIC_SIGN: "traffic sign",
    VEGETATION: "vegetation",
    TERRAIN: "terrain",
    SKY: "sky",
    CAR: "car",
}

# CityScapes colours (RGB) of the classes above.
CLASS_COLORS: dict[int, tuple[int, int, int]] = {
    ROAD: (128, 64, 128),
    SIDEWALK: (244, 35, 232),
    BUILDING: (70, 70, 70),
    POLE: (153, 153, 153),
    TRAFFIC_SIGN: (220, 220, 0),
    VEGETATION: (107, 142, 35),
    TERRAIN: (152, 251, 152),
    SKY: (70, 130, 180),
    CAR: (0, 0, 142),
}

# Lookup table id -> colour; unknown ids map to black (CityScapes "unlabeled").
_LUT = np.zeros((256, 3), dtype=np.uint8)
for _cid, _rgb in CLASS_COLORS.items():
    _LUT[_cid] = _rgb


def colorize(ids: np.ndarray) -> np.ndarray:
    """Map an HxW uint8 array of label ids to an HxWx3 uint8 RGB colour image."""
    return _LUT[np.asarray(ids, dtype=np.uint8)]
