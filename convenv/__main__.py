"""``python -m convenv``: the command-line interface (see :mod:`convenv.cli`)."""

from convenv.cli import main

raise SystemExit(main())
