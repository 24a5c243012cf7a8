"""`python -m learning`: see learning/cli.py and docs/learning.md."""

from learning.cli import main

raise SystemExit(main())
