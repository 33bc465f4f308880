from hub.entrypoints.cli import main

raise SystemExit(main())
