"""The allocator setting: it takes effect on glibc, can be turned off, and the console scripts apply it."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from depthforge import allocator

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"

# Page faults of repeated large allocations in a fresh process, with and without the setting.
_FAULTS = textwrap.dedent(
    """
    import resource, sys, torch
    from depthforge.allocator import retain_large_blocks
    applied = retain_large_blocks()
    faults = []
    for _ in range(8):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        x = torch.full((3, 1 << 22), 1.0)   # 48 MiB, above glibc's largest dynamic mmap threshold
        y = x * 2
        del x
        z = y + 1
        del y, z
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print(applied, sum(faults[4:]))  # the heap settles within a few rounds
    """
)


# A forward pass frees its activations at the end, so they merge into the top of the heap, which glibc hands
# back to the kernel unless its trim threshold is raised too; the next forward then faults them in again.
_FORWARD_FAULTS = textwrap.dedent(
    """
    import resource, torch
    from depthforge.allocator import retain_large_blocks
    applied = retain_large_blocks()
    torch.set_num_threads(1)
    net = torch.nn.Sequential(*[torch.nn.Conv2d(16, 16, 3, padding=1) for _ in range(4)]).eval()
    x = torch.rand(1, 16, 512, 512)  # 16 MiB activations
    faults = []
    with torch.inference_mode():
        for _ in range(8):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            y = net(x) * 2
            del y
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print(applied, sum(faults[4:]))
    """
)


def _faults(env_value: str | None, monkeypatch: pytest.MonkeyPatch, script: str = _FAULTS) -> tuple[bool, int]:
    if env_value is None:
        monkeypatch.delenv("DEPTHFORGE_MALLOC", raising=False)
    else:
        monkeypatch.setenv("DEPTHFORGE_MALLOC", env_value)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    applied, faults = out.stdout.split()
    return applied == "True", int(faults)


@pytest.mark.skipif(not GLIBC, reason="the setting exists on glibc only")
def test_large_blocks_are_reused(monkeypatch: pytest.MonkeyPatch) -> None:
    heap_applied, heap_faults = _faults(None, monkeypatch)
    system_applied, system_faults = _faults("system", monkeypatch)
    assert heap_applied and not system_applied
    pages = 4 * 12 * (1 << 20) // 4096  # four iterations of one 48 MiB block
    assert system_faults >= pages  # glibc's default maps every block anew
    assert heap_faults < system_faults / 2


@pytest.mark.skipif(not GLIBC, reason="the setting exists on glibc only")
def test_freed_activations_stay_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Repeated forwards of a small network settle to (almost) no page faults with the setting."""
    heap_applied, heap_faults = _faults(None, monkeypatch, _FORWARD_FAULTS)
    _, system_faults = _faults("system", monkeypatch, _FORWARD_FAULTS)
    assert heap_applied
    activation = 16 * (1 << 20) // 4096  # pages of one activation
    assert heap_faults <= 2 * activation  # four forwards; without the trim threshold about 30 activations
    assert heap_faults < system_faults / 2


def test_opt_out_and_bad_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPTHFORGE_MALLOC", "system")
    assert allocator.retain_large_blocks() is False
    with pytest.raises(ValueError, match="threshold"):
        allocator.retain_large_blocks(0)
    with pytest.raises(ValueError, match="threshold"):
        allocator.retain_large_blocks(2**31)


def test_console_scripts_apply_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``depthforge``, ``python main.py`` and ``tools/{train,test}.py`` all set the heap up at start."""
    calls: list[int] = []
    import depthforge.cli as cli
    from depthforge.cli import patchrefiner_tools, reference

    monkeypatch.setattr(cli, "retain_large_blocks", lambda *a, **k: calls.append(1) or True)
    assert cli.main(["--version"]) == 0
    with pytest.raises(SystemExit):
        reference.main(["--help"])
    missing = str(tmp_path / "missing_config.py")  # fails after the set-up, before any model is built
    assert patchrefiner_tools.train_main([missing]) == 2
    assert patchrefiner_tools.test_main([missing, "--ckp-path", str(tmp_path / "x.pth")]) == 2
    assert len(calls) == 4
