from b24explorer.cli import main

raise SystemExit(main())
