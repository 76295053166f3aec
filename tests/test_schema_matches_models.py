"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL.

The code writes through the models' tables (and their indexes: ``ON CONFLICT DO NOTHING`` relies on
a unique index that only a migration creates), while a deployed database only ever gets what the
migrations make. A column or index added to one and forgotten in the other turns red here.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kilowatt.storage import cluster_models, energy_models  # noqa: F401  (their tables join the metadata)
from kilowatt.storage.database import create_engine
from kilowatt.storage.migrate import upgrade
from kilowatt.storage.models import Base


def _differences(connection: Any) -> list[Any]:
    # Types are compared on PostgreSQL only: SQLite ignores VARCHAR lengths, so a migration that
    # widened a column skipped SQLite on purpose (0010).
    compare_type = connection.dialect.name == "postgresql"
    context = MigrationContext.configure(connection, opts={"compare_type": compare_type})
    return compare_metadata(context, Base.metadata)


async def test_the_migrated_schema_is_the_models_schema(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []
