from kash_tui.cli import main

raise SystemExit(main())
