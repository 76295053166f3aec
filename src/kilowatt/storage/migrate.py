"""Apply Alembic migrations programmatically (``kilowatt migrate`` and at ``kilowatt serve`` start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"

# Any fixed number: the key of the PostgreSQL advisory lock every Kilowatt process takes to migrate.
MIGRATION_LOCK = 0x6B696C6F  # "kilo"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the database on ``engine`` up to ``revision``."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))

    def _upgrade(connection: object) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Every `kilowatt serve` migrates at start, and a cluster's processes start together: without
            # this lock two of them both create alembic_version (or the same table) and one dies. The
            # lock is the transaction's, so it is released at the commit of the whole migration; the
            # process that waited then finds the schema at head and has nothing to do.
            await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        await connection.run_sync(_upgrade)
