"""Station configuration and device model: what the station last reported, refreshed after every
accepted boot.

The storage is the OCPP 2.0.1 device model (components, variables, attributes — see
:class:`~kilowatt.storage.models.DeviceModelVariable`); OCPP 1.6 configuration keys are the
variables of one component, :data:`V16_COMPONENT`, so one API reads both.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from kilowatt.commands.model import ChangeConfiguration, GetConfiguration, GetConfigurationResult
from kilowatt.services.command_service import CommandAnswer, CommandFailed, CommandService
from kilowatt.services.common import from_row
from kilowatt.services.redaction import REDACTED, secret_setting
from kilowatt.services.station_reports import ReportPart, StationReportService
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import DeviceModelVariable, utcnow
from kilowatt.storage.upsert import upsert

log = structlog.get_logger("kilowatt.configuration")

SYSTEM = "system"  # requested_by for commands the CSMS sends on its own

_VARIABLES = DeviceModelVariable.__table__
_INSERT_VARIABLES = insert(_VARIABLES)

# The component whose variables are a 1.6 station's configuration keys (attribute Actual).
V16_COMPONENT = "OCPP16Configuration"

# Keys whose value is the password the station uses for HTTP Basic auth (1.6 security whitepaper;
# 2.0.1 SecurityCtrlr.BasicAuthPassword).
STATION_PASSWORD_KEYS = frozenset({"AuthorizationKey", "BasicAuthPassword"})


_PRIMARY_KEY = (
    "station_id",
    "component",
    "component_instance",
    "evse_id",
    "connector_id",
    "variable",
    "variable_instance",
    "attribute_type",
)
_KEY_ORDER = _PRIMARY_KEY[1:]  # within one station
_REPORTED = (*_KEY_ORDER, "value", "mutability", "persistent", "constant", "characteristics")


def _stored_value(key: str, value: str | None) -> str | None:
    """Credentials are kept out of the configuration table (and so out of the API)."""
    return REDACTED if value is not None and secret_setting(key) else value


@dataclass(slots=True, frozen=True)
class VariableAttribute:
    """One attribute of one variable of one component of a station's device model."""

    component: str
    variable: str
    value: str | None
    mutability: str | None  # ReadOnly | WriteOnly | ReadWrite, when reported
    attribute_type: str = "Actual"  # Actual | Target | MinSet | MaxSet
    component_instance: str = ""  # "" when the component has no instance
    variable_instance: str = ""
    evse_id: int = 0  # 0: not on an EVSE
    connector_id: int = 0
    updated_at: datetime | None = None
    persistent: bool | None = None  # 2.0.1: the value survives a reboot
    constant: bool | None = None  # 2.0.1: the value never changes at runtime
    characteristics: dict[str, Any] | None = (
        None  # 2.0.1 VariableCharacteristicsType, as reported (unit, dataType, limits, valuesList, supportsMonitoring)
    )


@dataclass(slots=True, frozen=True)
class ConfigurationKey:
    """A 1.6 configuration key: a variable of :data:`V16_COMPONENT`."""

    key: str
    value: str | None
    readonly: bool
    updated_at: datetime


def _v16_row(station_id: str, key: str, value: str | None, readonly: bool, now: datetime) -> dict[str, object]:
    return {
        "station_id": station_id,
        "component": V16_COMPONENT,
        "component_instance": "",
        "evse_id": 0,
        "connector_id": 0,
        "variable": key,
        "variable_instance": "",
        "attribute_type": "Actual",
        "value": _stored_value(key, value),
        "mutability": "ReadOnly" if readonly else "ReadWrite",
        "updated_at": now,
    }


def _v16_keys(station_id: str, keys: list[str] | None = None) -> object:
    """The rows of ``station_id``'s 1.6 configuration (only ``keys`` when given)."""
    where = (_VARIABLES.c.station_id == station_id) & (_VARIABLES.c.component == V16_COMPONENT)
    return where & _VARIABLES.c.variable.in_(keys) if keys is not None else where


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
        """The 1.6 configuration keys as last reported, by key."""
        return [
            ConfigurationKey(v.variable, v.value, v.mutability == "ReadOnly", v.updated_at or utcnow())
            for v in await self.device_model(station_id, V16_COMPONENT)
        ]

    async def device_model(self, station_id: str, component: str | None = None) -> list[VariableAttribute]:
        """Every reported attribute of ``station_id`` (of ``component`` only, when given), in key order."""
        query = select(DeviceModelVariable).where(DeviceModelVariable.station_id == station_id)
        if component is not None:
            query = query.where(DeviceModelVariable.component == component)
        order = [getattr(DeviceModelVariable, name) for name in _KEY_ORDER]
        async with self._sessions() as session:
            rows = (await session.execute(query.order_by(*order))).scalars()
            return [from_row(row, VariableAttribute) for row in rows]

    async def fetch(
        self, station_id: str, requested_by: str = SYSTEM, keys: list[str] | None = None
    ) -> CommandAnswer[GetConfigurationResult]:
        """Ask the station for its configuration and store what it reports."""
        answer: CommandAnswer[GetConfigurationResult] = await self._commands.send(
            station_id, GetConfiguration(tuple(keys or ())), requested_by
        )
        now = utcnow()
        reported = {item.key: item for item in answer.result.values}  # a key reported twice: the last one
        rows = [_v16_row(station_id, item.key, item.value, item.readonly, now) for item in reported.values()]
        # A full report replaces what we had; a partial one replaces the keys it names.
        replaced = delete(_VARIABLES).where(_v16_keys(station_id, [row["variable"] for row in rows] if keys else None))

        def store(connection: Connection) -> None:
            connection.execute(replaced)
            if rows:  # one multi-row INSERT, not a SELECT and an INSERT per key
                connection.execute(_INSERT_VARIABLES, rows)

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
            row = _v16_row(station_id, key, value, False, utcnow())  # it accepted a change: not read-only
            await self._writes.run(lambda connection: upsert(connection, _VARIABLES, row, _PRIMARY_KEY))
            if key in STATION_PASSWORD_KEYS and self._on_password_changed is not None:
                # The station now logs in with the new key: the CSMS must accept it at the next handshake.
                await self._on_password_changed(station_id, value)
        return ConfigurationChange(key, value, status, answer)

    async def report(self, station_id: str, part: ReportPart, attributes: list[VariableAttribute]) -> None:
        """Store what one part of a device model report (2.0.1 NotifyReport) says, replacing what
        earlier reports said of the same attributes, and the part itself (so the report's
        completeness shows); a replayed part stores nothing. Returns after the commit."""
        now = utcnow()
        rows = {}
        for attribute in attributes:  # an attribute reported twice in one part: the last one
            row = {name: getattr(attribute, name) for name in _REPORTED}
            row["value"] = _stored_value(attribute.variable, attribute.value)
            rows[tuple(row[name] for name in _KEY_ORDER)] = {"station_id": station_id, **row, "updated_at": now}

        def store(connection: Connection) -> None:
            if StationReportService.record_part(connection, part).new:
                for row in rows.values():
                    upsert(connection, _VARIABLES, row, _PRIMARY_KEY)

        await self._writes.run(store)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
