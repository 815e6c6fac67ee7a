from depthforge.cli import main

raise SystemExit(main())
