"""Hot-path inserts on the DB-API, compiled once by SQLAlchemy.

A busy fleet's MeterValues are plain multi-row inserts. Through ``Connection.execute`` each one
pays for SQLAlchemy's execution context — parameter construction, result set-up, events — which
costs several times the SQLite work itself (docs/performance.md). Here SQLAlchemy still writes
the SQL and still converts every value (its own bind processors for the dialect: timestamps,
floats, JSON), but once per statement; each batch is then one DB-API ``executemany``.

A column left out of the rows that has a Python-side default (``default=utcnow``) gets it here
as SQLAlchemy would; a SQL-expression or sequence default is refused (nothing on the hot path
has one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import (
    DatabaseError,
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.sql.dml import Insert

Processor = Callable[[Any], Any]


class CompiledInsert:
    """One insert statement for one dialect and one set of column keys."""

    __slots__ = ("sql", "keys", "processors", "defaults", "_dbapi_error")

    def __init__(self, statement: Insert, dialect: Dialect, keys: tuple[str, ...]):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True)
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
        self.defaults: dict[str, Callable[[], Any]] = {}  # columns the rows leave out, filled per row
        for column in compiled.insert_prefetch:
            default = column.default
            if default is None or not (default.is_scalar or default.is_callable):
                raise ValueError(f"{statement.table}.{column.key}: only Python-side defaults can be filled in")
            arg = default.arg
            self.defaults[column.key] = (lambda arg=arg: arg(None)) if default.is_callable else (lambda arg=arg: arg)
        self.sql = str(compiled)
        self.keys = tuple(compiled.positiontup or ())
        if set(self.keys) != set(keys) | set(self.defaults):
            raise ValueError(f"compiled parameters {self.keys} do not match the row keys {keys}")
        columns = statement.table.c
        self.processors: tuple[Processor | None, ...] = tuple(
            columns[key].type.dialect_impl(dialect).bind_processor(dialect) for key in self.keys
        )

    def parameters(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row as the DB-API wants it: a tuple in the statement's order, values converted."""
        pairs = tuple(zip(self.keys, self.processors))
        if self.defaults:
            rows = [{key: fill() for key, fill in self.defaults.items()} | row for row in rows]
        return [tuple(row[key] if process is None else process(row[key]) for key, process in pairs) for row in rows]

    def execute(self, dbapi_connection: Any, rows: list[dict[str, Any]]) -> None:
        """One ``executemany`` of ``rows`` (all with this statement's keys) on a DB-API connection.

        A driver error is raised as SQLAlchemy would raise it (``IntegrityError`` and so on, the
        driver's own in ``.orig``), so callers see one kind of error whichever path ran.
        """
        try:
            dbapi_connection.executemany(self.sql, self.parameters(rows))
        except self._dbapi_error as exc:
            raise DBAPIError.instance(self.sql, None, exc, self._dbapi_error) from exc


class CompiledInserts:
    """The compiled form of each statement and key set seen, for one dialect."""

    def __init__(self, dialect: Dialect):
        self._dialect = dialect
        self._compiled: dict[tuple[int, tuple[str, ...]], tuple[Insert, CompiledInsert]] = {}

    def get(self, statement: Insert, keys: tuple[str, ...]) -> CompiledInsert:
        entry = self._compiled.get((id(statement), keys))
        if entry is None or entry[0] is not statement:  # keep the statement: its id stays unique
            entry = (statement, CompiledInsert(statement, self._dialect, keys))
            self._compiled[(id(statement), keys)] = entry
        return entry[1]

    def plan(self, statement: Insert, rows: list[dict[str, Any]]) -> list[tuple[CompiledInsert, list[dict[str, Any]]]]:
        """``rows`` split by key set (usually one), each with its compiled statement."""
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            by_keys.setdefault(tuple(row), []).append(row)
        return [(self.get(statement, keys), same) for keys, same in by_keys.items()]

    def execute(self, dbapi_connection: Any, statement: Insert, rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` with ``statement`` on a DB-API connection."""
        for compiled, same in self.plan(statement, rows):
            compiled.execute(dbapi_connection, same)


async def execute_asyncpg(connection: Any, plan: list[tuple[CompiledInsert, list[dict[str, Any]]]]) -> None:
    """Run a plan on a bare asyncpg connection, atomically.

    One ``executemany`` is already atomic in asyncpg (one Sync for all its rows), so a batch of
    one statement costs one round trip; more statements run inside one transaction. asyncpg's
    errors are raised as SQLAlchemy's, like everything else the write batcher raises.
    """
    try:
        if len(plan) == 1:
            compiled, rows = plan[0]
            await connection.executemany(compiled.sql, compiled.parameters(rows))
            return
        async with connection.transaction():
            for compiled, rows in plan:
                await connection.executemany(compiled.sql, compiled.parameters(rows))
    except Exception as exc:
        sql = plan[0][0].sql if plan else ""
        raise _postgres_error(sql, exc) from exc


# SQLSTATE classes (the first two characters) and the DB-API error each one is
_SQLSTATE_CLASSES: dict[str, type[DBAPIError]] = {
    "22": DataError,
    "23": IntegrityError,
    "42": ProgrammingError,
    "08": OperationalError,  # connection exception
    "40": OperationalError,  # transaction rollback (serialization failure, deadlock)
    "53": OperationalError,  # insufficient resources
    "57": OperationalError,  # operator intervention (shutdown, cancelled)
}


def _postgres_error(sql: str, error: Exception) -> DBAPIError:
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is None:  # not from the server: the connection broke, or a value could not be encoded
        kind: type[DBAPIError] = InterfaceError if isinstance(error, (TypeError, ValueError)) else OperationalError
    else:
        kind = _SQLSTATE_CLASSES.get(sqlstate[:2], DatabaseError)
    return kind(sql, None, error)
