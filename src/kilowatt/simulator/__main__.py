"""``python -m kilowatt.simulator``: the same as ``kilowatt simulate``."""

from kilowatt.simulator.cli import main

raise SystemExit(main())
