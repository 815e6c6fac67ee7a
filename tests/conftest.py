"""Suite-wide settings, applied before any test module imports torch."""

from __future__ import annotations

import os

# The float64 parity fixtures hold to ~1e-9 with MKL's AVX2 kernels; on AVX-512 machines MKL rounds float64
# products differently (5e-9 on ZoeDepth's depth). Fix MKL's code path so that the same tolerances hold on
# every x86 machine CI may draw. Read once, when MKL starts: an explicit setting in the environment wins.
os.environ.setdefault("MKL_CBWR", "AVX2")
