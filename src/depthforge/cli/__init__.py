"""The ``depthforge`` command line: one entry point, one sub-command per job."""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Callable

from depthforge.allocator import retain_large_blocks
from depthforge.errors import DepthforgeError
from depthforge.logs import quiet_logs

# Sub-command -> module exposing ``add_parser(subparsers)`` and ``run(args) -> int``.
COMMANDS = {
    "train": "depthforge.cli.train",
    "test": "depthforge.cli.test",
    "eval": "depthforge.cli.eval",
    "predict": "depthforge.cli.predict",
    "synth": "depthforge.cli.synth",
    "demo": "depthforge.cli.demo",
    "config": "depthforge.cli.config",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="depthforge", description=__doc__)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        try:
            importlib.import_module(module).add_parser(sub)
        except ImportError as exc:  # a part that is not installed must not break the others
            broken = sub.add_parser(name, help=f"(unavailable: {exc})")
            broken.set_defaults(_unavailable=str(exc))
    for command in (parser, *sub.choices.values()):  # docstrings double as help texts: drop their markup
        command.description = plain_text(command.description)
        command.formatter_class = argparse.RawDescriptionHelpFormatter
    return parser


def plain_text(text: str | None) -> str | None:
    """Docstring text without reStructuredText roles and literals (``x``, :func:`x`)."""
    if text is None:
        return None
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"\1", text)
    return re.sub(r"``([^`]+)``", r"\1", text)


def set_up_process() -> None:
    """What every command does first: one quiet log stream, large freed tensors reused from the heap."""
    quiet_logs()
    retain_large_blocks()


def main(argv: list[str] | None = None) -> int:
    set_up_process()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from depthforge import __version__

        print(__version__)
        return 0
    if not args.command:
        parser.print_help()
        return 2
    if getattr(args, "_unavailable", None):
        print(f"depthforge {args.command}: unavailable ({args._unavailable})", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[args.command])
    return run_command(lambda: module.run(args), f"depthforge {args.command}")


def run_command(job: Callable[[], int | None], prog: str) -> int:
    """Run a command's job; the project's errors become one line prefixed with ``prog`` (exit 2), Ctrl-C 130."""
    try:
        return int(job() or 0)
    except DepthforgeError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except FileNotFoundError as exc:
        print(f"{prog}: error: {exc.filename or exc}: file not found", file=sys.stderr)
        return 2
