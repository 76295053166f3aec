"""INSERT ... ON CONFLICT DO UPDATE, the same on SQLite and PostgreSQL.

Both dialects spell it identically in SQLAlchemy but through their own ``insert``; this picks the
right one, so a service can keep "the current row" in one statement instead of a SELECT followed by
an INSERT or UPDATE.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


async def upsert(session: AsyncSession, table: Table, values: Mapping[str, Any], keys: Iterable[str]) -> None:
    """Insert ``values``, or update the row with the same ``keys`` to them."""
    keys = list(keys)
    insert = _INSERTS[session.get_bind().dialect.name]
    statement = insert(table).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={name: statement.excluded[name] for name in values if name not in keys}
    )
    await session.execute(statement)
