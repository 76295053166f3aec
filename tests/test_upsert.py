"""upsert_many on SQLite and PostgreSQL: one executemany per shape, repeats resolved as row-by-row upserts would."""

from __future__ import annotations

from sqlalchemy import select

from kilowatt.storage.database import create_engine
from kilowatt.storage.migrate import upgrade
from kilowatt.storage.models import Connector, Station, utcnow
from kilowatt.storage.upsert import upsert_many


async def test_upsert_many_inserts_updates_and_takes_the_last_of_repeated_keys(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await upgrade(engine)
        key = ("station_id", "evse_id", "connector_id")
        now = utcnow()

        def row(connector_id: int, status: str) -> dict[str, object]:
            return {"station_id": "CP-1", "evse_id": 1, "connector_id": connector_id, "status": status, "updated_at": now}

        async with engine.begin() as connection:
            await connection.execute(Station.__table__.insert().values(id="CP-1"))
            await connection.run_sync(upsert_many, Connector.__table__, [row(1, "Available"), row(2, "Available")], key)
            # connector 2 twice in one call (a charger repeating a key): the last one wins, no error
            rows = [row(2, "Charging"), row(3, "Faulted"), row(2, "Finishing")]
            await connection.run_sync(upsert_many, Connector.__table__, rows, key)
            await connection.run_sync(upsert_many, Connector.__table__, [], key)  # nothing to do
        async with engine.connect() as connection:
            stored = (await connection.execute(select(Connector.connector_id, Connector.status).order_by(Connector.connector_id))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in stored] == [(1, "Available"), (2, "Finishing"), (3, "Faulted")]
