"""Station configuration: what the station last reported, refreshed after every accepted boot."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from kilowatt.commands.model import ChangeConfiguration, GetConfiguration, GetConfigurationResult
from kilowatt.services.commands import CommandAnswer, CommandFailed, CommandService
from kilowatt.services.redaction import REDACTED, secret_setting
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import ConfigurationKey, utcnow

log = structlog.get_logger("kilowatt.configuration")

SYSTEM = "system"  # requested_by for commands the CSMS sends on its own

_INSERT_KEY = insert(ConfigurationKey.__table__)

# Keys whose value is the password the station uses for HTTP Basic auth (1.6 security whitepaper;
# 2.0.1 SecurityCtrlr.BasicAuthPassword).
STATION_PASSWORD_KEYS = frozenset({"AuthorizationKey", "BasicAuthPassword"})


def _stored_value(key: str, value: str | None) -> str | None:
    """Credentials are kept out of the configuration table (and so out of the API)."""
    return REDACTED if value is not None and secret_setting(key) else value


@dataclass(slots=True, frozen=True)
class ConfigurationChange:
    key: str
    value: str
    status: str  # Accepted | Rejected | RebootRequired | NotSupported
    answer: CommandAnswer


class ConfigurationService:
    def __init__(
        self,
        sessions: SessionFactory,
        writes: WriteBatcher,
        commands: CommandService,
        fetch_delay_s: float = 0.0,
        on_password_changed: Callable[[str, str], Awaitable[object]] | None = None,
    ):
        self._sessions = sessions
        self._writes = writes
        self._commands = commands
        self._fetch_delay_s = fetch_delay_s
        self._on_password_changed = on_password_changed
        self._background: set[asyncio.Task[None]] = set()

    async def stored(self, station_id: str) -> list[ConfigurationKey]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(ConfigurationKey).where(ConfigurationKey.station_id == station_id).order_by(ConfigurationKey.key)
            )
            return list(rows.scalars())

    async def fetch(
        self, station_id: str, requested_by: str = SYSTEM, keys: list[str] | None = None
    ) -> CommandAnswer[GetConfigurationResult]:
        """Ask the station for its configuration and store what it reports."""
        answer: CommandAnswer[GetConfigurationResult] = await self._commands.send(
            station_id, GetConfiguration(tuple(keys or ())), requested_by
        )
        now = utcnow()
        rows = {item.key: {"value": _stored_value(item.key, item.value), "readonly": item.readonly} for item in answer.result.values}
        # A full report replaces what we had; a partial one replaces the keys it names.
        replaced = delete(ConfigurationKey).where(ConfigurationKey.station_id == station_id)
        if keys:
            replaced = replaced.where(ConfigurationKey.key.in_(list(rows)))
        stored = [{"station_id": station_id, "key": key, "updated_at": now, **row} for key, row in rows.items()]

        def store(connection: Connection) -> None:
            connection.execute(replaced)
            if stored:  # one multi-row INSERT, not a SELECT and an INSERT per key
                connection.execute(_INSERT_KEY, stored)

        await self._writes.run(store)  # batched: after a boot storm, thousands of these arrive together
        return answer

    def fetch_in_background(self, station_id: str) -> None:
        """Refresh after a boot without holding up the BootNotification answer.

        It starts after a random delay of up to ``fetch_delay_s``: after a CSMS restart every
        station boots at once, and fetching every configuration in the same second would double
        the storm.
        """
        task = asyncio.get_running_loop().create_task(self._fetch_quietly(station_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _fetch_quietly(self, station_id: str) -> None:
        try:
            if self._fetch_delay_s:
                await asyncio.sleep(random.uniform(0, self._fetch_delay_s))
            await self.fetch(station_id)
        except CommandFailed as exc:
            log.info("configuration not fetched after boot", station_id=station_id, error=str(exc))
        except Exception:
            log.exception("configuration fetch failed", station_id=station_id)

    async def change(self, station_id: str, key: str, value: str, requested_by: str) -> ConfigurationChange:
        """ChangeConfiguration; what the station accepted is stored at once."""
        answer = await self._commands.send(station_id, ChangeConfiguration(key, value), requested_by)
        status = answer.status or ""
        if status in ("Accepted", "RebootRequired"):
            stored = _stored_value(key, value)
            async with self._sessions.begin() as session:
                current = await session.get(ConfigurationKey, (station_id, key))
                if current is None:
                    session.add(ConfigurationKey(station_id=station_id, key=key, value=stored, readonly=False))
                else:
                    current.value = stored
            if key in STATION_PASSWORD_KEYS and self._on_password_changed is not None:
                # The station now logs in with the new key: the CSMS must accept it at the next handshake.
                await self._on_password_changed(station_id, value)
        return ConfigurationChange(key, value, status, answer)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
