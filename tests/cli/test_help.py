"""``depthforge --help`` loads no heavy library, so that it answers at once."""

from __future__ import annotations

import subprocess
import sys


def test_help_imports_no_heavy_library() -> None:
    code = ("import sys, contextlib, io\n"
            "from depthforge.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['--help']) if False else None\n"
            "from depthforge.cli import build_parser\n"
            "build_parser().format_help()\n"
            "heavy = [m for m in ('torch', 'numpy', 'cv2', 'lightning', 'scipy', 'skimage') if m in sys.modules]\n"
            "print(','.join(heavy))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_every_command_has_help_without_markup() -> None:
    from depthforge.cli import COMMANDS, build_parser

    parser = build_parser()
    for name in COMMANDS:
        text = parser._subparsers._group_actions[0].choices[name].format_help()  # type: ignore[union-attr]
        assert "``" not in text and ":func:" not in text and ":class:" not in text, name
