"""Migration 0004 repairs the rows an older Kilowatt stored on SQLite and could not read back."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import text

from conftest import ADMIN_TOKEN
from kilowatt.app import Application
from kilowatt.config import Settings
from kilowatt.storage.database import create_engine
from kilowatt.storage.migrate import upgrade


async def test_scalar_audit_bodies_and_real_request_ids_are_repaired(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine, "0003")
        async with engine.begin() as connection:  # what the old code stored (see the 0004 docstring)
            await connection.execute(
                text(
                    "INSERT INTO audit_log (at, principal, role, method, path, status_code, body) "
                    "VALUES ('2026-11-01 10:00:00.000000', 'anonymous', 'none', 'POST', '/api/v1/stations', 401, '7')"
                )
            )
            await connection.execute(text("INSERT INTO stations (id, registration_status, connected, created_at, updated_at) VALUES ('CP-1', 'Accepted', 0, '2026-11-01 09:00:00.000000', '2026-11-01 09:00:00.000000')"))
            await connection.execute(
                text(
                    "INSERT INTO station_events (station_id, kind, status, request_id, details, received_at) "
                    "VALUES ('CP-1', 'log', 'Idle', 1e300, NULL, '2026-11-01 10:00:00.000000')"
                )
            )
            kinds = (await connection.execute(text("SELECT typeof(body) FROM audit_log"))).scalar_one()
            assert kinds == "integer"  # the corruption this migration exists for
        await upgrade(engine)
    finally:
        await engine.dispose()

    application = Application(
        Settings(database_url=url, host="127.0.0.1", ocpp_port=0, http_port=0, admin_token=ADMIN_TOKEN)
    )
    await application.start()
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{application.http_port}", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        ) as api:
            audit = await api.get("/api/v1/audit-log", params={"path_prefix": "/api/v1/stations"})
            assert audit.status_code == 200, audit.text
            assert [entry["body"] for entry in audit.json()["items"]] == [{"json": 7}]
            events = await api.get("/api/v1/stations/CP-1/events")
            assert events.status_code == 200, events.text
            [event] = events.json()["items"]
            assert event["request_id"] is None and event["details"] == {"refused_request_id": 1e300}
    finally:
        await application.stop()


async def test_configuration_keys_move_into_the_device_model(tmp_path: Path) -> None:
    """Migration 0006: what a 1.6 station reported before is still there, as device-model variables."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine, "0005")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO stations (id, registration_status, connected, created_at, updated_at) "
                    "VALUES ('CP-1', 'Accepted', 0, '2026-11-01 09:00:00.000000', '2026-11-01 09:00:00.000000')"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO configuration_keys (station_id, key, value, readonly, updated_at) VALUES "
                    "('CP-1', 'HeartbeatInterval', '300', 0, '2026-11-01 10:00:00.000000'), "
                    "('CP-1', 'ChargePointModel', 'X', 1, '2026-11-01 10:00:00.000000')"
                )
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT component, variable, attribute_type, value, mutability FROM device_model_variables ORDER BY variable")
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(row) for row in rows] == [
        ("OCPP16Configuration", "ChargePointModel", "Actual", "X", "ReadOnly"),
        ("OCPP16Configuration", "HeartbeatInterval", "Actual", "300", "ReadWrite"),
    ]
