"""SemAttNet's reference command line, served by depthforge (``python main.py -n bb ...``)."""

from depthforge.cli.reference import main

if __name__ == "__main__":
    raise SystemExit(main())
