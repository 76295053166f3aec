"""The services a version adapter talks to (the bundle lives in :mod:`kilowatt.services.bundle`)."""

from kilowatt.services.bundle import Services

__all__ = ["Services"]
