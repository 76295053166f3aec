"""The functional-block modules whose ROUTES make up the 2.0.1 handlers (listed once, here)."""

from __future__ import annotations

from types import ModuleType

BLOCKS: tuple[ModuleType, ...] = ()
