"""Shared fixtures: a real Kilowatt (gateway + API on loopback ports) on a real database.

Every test that uses ``csms`` runs once on SQLite and once on PostgreSQL. PostgreSQL runs when
``KILOWATT_TEST_POSTGRES_URL`` is set (``.ci/run`` sets it); otherwise those cases skip with the
reason. With ``CI=true`` a configured but unreachable PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from charger import TestCharger
from kilowatt.app import Application
from kilowatt.config import Settings
from kilowatt.logs import configure_logging
from kilowatt.storage.database import create_engine

ADMIN_TOKEN = "test-admin-token"
POSTGRES_URL = os.environ.get("KILOWATT_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("KILOWATT_TEST_REDIS_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_EXAMPLE = "postgresql+asyncpg://postgres@127.0.0.1:5432/kilowatt_test"


def require_services(why: str, postgres: bool = True, redis: bool = False) -> None:
    """Skip the test, saying ``why``, unless the test services' variables are set; in CI, fail it."""
    wanted = [("KILOWATT_TEST_POSTGRES_URL", POSTGRES_URL, postgres), ("KILOWATT_TEST_REDIS_URL", REDIS_URL, redis)]
    missing = [name for name, url, needed in wanted if needed and not url]
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true but {' and '.join(missing)} not set")
        pytest.skip(why)


async def empty_postgres(why: str = f"PostgreSQL tests need KILOWATT_TEST_POSTGRES_URL (e.g. {POSTGRES_EXAMPLE})") -> str:
    """The test PostgreSQL's URL, its schema emptied; skipped (failed in CI) when unset or unreachable."""
    require_services(why)
    assert POSTGRES_URL
    try:
        await _reset_postgres(POSTGRES_URL)
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}")
    return POSTGRES_URL

configure_logging(os.environ.get("KILOWATT_TEST_LOG_LEVEL", "WARNING"))


async def _reset_postgres(url: str) -> None:
    """Give each test an empty schema in the test database (created on first use)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            exists = (
                await connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database})
            ).first()
            if exists is None:
                await connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await admin.dispose()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'kilowatt.db'}"
    return await empty_postgres()


class RunningCsms:
    """A started Application plus the URLs a charger and an operator use."""

    def __init__(self, application: Application):
        self.application = application
        self.ocpp_url = f"ws://127.0.0.1:{application.ocpp_port}/ocpp"
        self.api_url = f"http://127.0.0.1:{application.http_port}"

    @property
    def services(self) -> Any:
        return self.application.services


CsmsFactory = Callable[..., Awaitable[RunningCsms]]


@pytest.fixture
async def make_csms(database_url: str) -> AsyncIterator[CsmsFactory]:
    """Start a CSMS with settings overridden by keyword; stopped after the test."""
    started: list[Application] = []

    async def factory(**overrides: Any) -> RunningCsms:
        values: dict[str, Any] = {
            "database_url": database_url,
            "host": "127.0.0.1",
            "ocpp_port": 0,
            "http_port": 0,
            "admin_token": ADMIN_TOKEN,
            "call_timeout_s": 5.0,
            "duplicate_probe_timeout_s": 1.0,
            "configuration_fetch_delay_s": 0.0,
        }
        values.update(overrides)
        application = Application(Settings(**values))
        await application.start()
        started.append(application)
        return RunningCsms(application)

    yield factory
    for application in reversed(started):
        await application.stop()


@pytest.fixture
async def csms(make_csms: CsmsFactory) -> RunningCsms:
    return await make_csms()


@pytest.fixture
async def api(csms: RunningCsms) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for the API with the admin token."""
    async with httpx.AsyncClient(
        base_url=csms.api_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
async def charger(csms: RunningCsms) -> AsyncIterator[TestCharger]:
    """A registered station ``CP-1`` connected over OCPP 1.6 (not yet booted)."""
    await csms.services.stations.create("CP-1")
    async with TestCharger.connect(csms.ocpp_url, "CP-1") as cp:
        yield cp
