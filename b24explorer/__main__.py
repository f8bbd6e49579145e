"""``python -m b24explorer`` opens the explorer window."""

from b24explorer.app import main

raise SystemExit(main())
