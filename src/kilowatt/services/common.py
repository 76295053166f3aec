"""Small pieces every service uses: pagination and domain errors the API turns into HTTP answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PAGE_SIZE = 500


@dataclass(slots=True, frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class NotFound(Exception):
    """The thing asked for does not exist."""


class Conflict(Exception):
    """The request clashes with what is stored (duplicate id, ...)."""


class Invalid(Exception):
    """The request is well-formed but not acceptable (e.g. a parent token that does not exist)."""
