"""PatchRefiner evaluation and prediction, as the reference's ``tools/test.py`` (see ``docs/patchrefiner_tools.md``)."""

from depthforge.cli.patchrefiner_tools import test_main

if __name__ == "__main__":
    raise SystemExit(test_main())
