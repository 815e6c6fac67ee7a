"""PatchRefiner training, as the reference's ``tools/train.py`` (see ``docs/patchrefiner_tools.md``)."""

from depthforge.cli.patchrefiner_tools import train_main

if __name__ == "__main__":
    raise SystemExit(train_main())
