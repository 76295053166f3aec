"""Allow ``python -m kilowatt``."""

from kilowatt.cli import main

raise SystemExit(main())
