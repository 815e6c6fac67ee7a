"""Process-wide allocator setting for large tensors (glibc on Linux).

glibc serves every block above its mmap threshold (adjusted at run time, but never above 32 MiB) with a fresh
mapping and unmaps it on free. A forward pass at full size allocates and frees hundreds of activations of
10-230 MB, so each one is faulted in and zeroed by the kernel page by page, again on every call: about a
tenth of a ZoeDepth or PatchRefiner forward on CPUs. Raising the threshold serves them from the heap, whose
freed blocks are reused. The trim threshold is raised with it: at glibc's default (128 KiB, fixed once the mmap
threshold is set by hand) every large block freed at the top of the heap is handed back at once and faulted
in again by the next allocation, which cost a ZoeDepth forward about 500 000 page faults and 2 s of system
time. Results are unchanged; the price is some heap fragmentation, and up to ``threshold`` bytes of freed
heap that the process keeps instead of returning them.

The console scripts (``depthforge``, ``python main.py``, ``tools/*.py``) and the benchmarks call
:func:`retain_large_blocks` at start; programs that use the Python API may call it themselves.
``DEPTHFORGE_MALLOC=system`` keeps glibc's default everywhere.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

__all__ = ["DEFAULT_THRESHOLD", "retain_large_blocks"]

DEFAULT_THRESHOLD = 1 << 30
"""Blocks up to 1 GiB come from the heap (every activation of the published models at 4K tiling)."""
_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
_applied: int | None = None


def retain_large_blocks(threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Serve allocations up to ``threshold`` bytes from the heap and keep as much freed heap for reuse.

    Returns whether the setting is in effect: False off glibc (other C libraries, macOS, Windows) or with
    ``DEPTHFORGE_MALLOC=system``. Calling it again with the same threshold does nothing.
    """
    global _applied
    if not 0 < threshold < 2**31:
        raise ValueError(f"threshold must be a positive byte count below 2**31, got {threshold}")
    if os.environ.get("DEPTHFORGE_MALLOC", "").strip().lower() == "system" or not sys.platform.startswith("linux"):
        return False
    if _applied == threshold:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    if not (mallopt(_M_MMAP_THRESHOLD, int(threshold)) and mallopt(_M_TRIM_THRESHOLD, int(threshold))):
        return False
    _applied = threshold
    return True
