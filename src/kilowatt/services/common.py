"""Small pieces every service uses: pagination and domain errors the API turns into HTTP answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
U = TypeVar("U")

MAX_PAGE_SIZE = 500


@dataclass(slots=True, frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def empty(cls, limit: int, offset: int) -> Page[T]:
        """No items, paged as ``paginate`` would have paged them."""
        return cls([], 0, min(limit, MAX_PAGE_SIZE), offset)

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with each item converted (rows into the service's domain objects)."""
        return Page([convert(item) for item in self.items], self.total, self.limit, self.offset)


async def paginate(session: AsyncSession, query: Select[Any], order_by: Any, limit: int, offset: int) -> Page[Any]:
    """One page of ``query``'s rows (ORM objects) and the total count, the way every list endpoint pages."""
    limit = min(limit, MAX_PAGE_SIZE)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    order = order_by if isinstance(order_by, (list, tuple)) else [order_by]
    rows = (await session.execute(query.order_by(*order).limit(limit).offset(offset))).scalars().all()
    return Page(list(rows), total, limit, offset)


def from_row(row: Any, cls: type[T]) -> T:
    """The domain dataclass ``cls`` from an ORM row or a Core row, field by field (by name).

    Services return these, never ORM rows: nothing outside a service can lazy-load, mutate or
    depend on its tables.
    """
    get = row._mapping.__getitem__ if hasattr(row, "_mapping") else row.__getattribute__
    return cls(**{f.name: get(f.name) for f in fields(cls)})


def rfc3339(value: datetime) -> str:
    """A datetime as OCPP JSON carries it (every version): UTC, milliseconds, ``Z``."""
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class NotFound(Exception):
    """The thing asked for does not exist."""


class Conflict(Exception):
    """The request clashes with what is stored (duplicate id, ...)."""


class Invalid(Exception):
    """The request is well-formed but not acceptable (e.g. a parent token that does not exist)."""
