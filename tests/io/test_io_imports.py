"""depthforge.io sits at the bottom: importing it pulls in no other depthforge layer."""

from __future__ import annotations

import subprocess
import sys


def test_io_imports_nothing_upward() -> None:
    code = (
        "import sys, depthforge.io\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[:2] in "
        "(['depthforge', 'data'], ['depthforge', 'metrics'], ['depthforge', 'synth'], ['depthforge', 'engine']))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
