"""INSERT ... ON CONFLICT DO UPDATE, the same on SQLite and PostgreSQL.

Both dialects spell it identically in SQLAlchemy but through their own ``insert``; this picks the
right one, so a service can keep "the current row" in one statement instead of a SELECT followed by
an INSERT or UPDATE. The statement is built once per shape and reused: building its ``excluded``
column set is far costlier than executing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_STATEMENTS: dict[tuple[str, str, tuple[str, ...], tuple[str, ...]], Insert] = {}


def _statement(dialect: str, table: Table, names: tuple[str, ...], keys: tuple[str, ...]) -> Insert:
    shape = (dialect, table.name, names, keys)
    statement = _STATEMENTS.get(shape)
    if statement is None:
        insert = _INSERTS[dialect](table)
        statement = insert.on_conflict_do_update(
            index_elements=list(keys), set_={name: insert.excluded[name] for name in names if name not in keys}
        )
        _STATEMENTS[shape] = statement
    return statement


def upsert(connection: Connection, table: Table, values: Mapping[str, Any], keys: Iterable[str]) -> None:
    """Insert ``values``, or update the row with the same ``keys`` to them (in a batched write)."""
    statement = _statement(connection.dialect.name, table, tuple(values), tuple(keys))
    connection.execute(statement, dict(values))


def upsert_many(connection: Connection, table: Table, rows: Iterable[Mapping[str, Any]], keys: Iterable[str]) -> None:
    """:func:`upsert` every row, one executemany per set of columns: a device model report part of
    dozens of attributes is one call into the driver, not dozens."""
    keys = tuple(keys)
    # Two rows with the same key: the last one, as row-by-row upserts would leave it (and a
    # multi-row INSERT ... ON CONFLICT may not touch one row twice).
    shapes: dict[tuple[str, ...], dict[tuple[Any, ...], dict[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(row), {})[tuple(row[key] for key in keys)] = dict(row)
    for names, same in shapes.items():
        connection.execute(_statement(connection.dialect.name, table, names, keys), list(same.values()))

