"""Station configuration and device model: what the station last reported, refreshed after every
accepted boot.

The storage is the OCPP 2.0.1 device model (components, variables, attributes — see
:class:`~kilowatt.storage.models.DeviceModelVariable`); OCPP 1.6 configuration keys are the
variables of one component, :data:`V16_COMPONENT`, so one API reads both.

Reads and writes go through typed commands: ``GetConfiguration``/``ChangeConfiguration`` for 1.6
keys, ``GetVariables``/``SetVariables`` for device-model variables (OCPP 2.0.1 on). What the
station answers Accepted (read) or Accepted/RebootRequired (set) is stored at once; credentials are
stored as ``***``. A full report (``GetBaseReport``) arrives later in NotifyReport messages, which
the station handlers store.

A FullInventory the CSMS asked for *replaces* the stored device model: once its last part and every
part before it arrived, the station's attributes it did not report are deleted (a component that
was removed or a variable a firmware update dropped). The request is noted before it is sent
(:meth:`~kilowatt.services.station_reports.StationReportService.note_request`), so the parts know
what they answer; every attribute a part stores is stamped no earlier than that request, and the
deletion takes what is older. Any other report (ConfigurationInventory, SummaryInventory,
GetReport) only adds and updates, as does a FullInventory the CSMS did not ask for or whose parts
never all arrive.
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

from kilowatt.commands.model import (
    AttributeType,
    ChangeConfiguration,
    ComponentRef,
    GetBaseReport,
    GetConfiguration,
    GetConfigurationResult,
    GetVariables,
    GetVariablesResult,
    ReportBase,
    SetVariables,
    SetVariablesResult,
    VariableRef,
    VariableRequest,
    VariableSetting,
)
from kilowatt.services.command_service import CommandAnswer, CommandFailed, CommandService
from kilowatt.services.common import from_row
from kilowatt.services.redaction import REDACTED, secret_setting
from kilowatt.services.station_reports import DEVICE_MODEL, ReportPart, StationReportService
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import DeviceModelVariable, utcnow
from kilowatt.storage.upsert import upsert, upsert_many

log = structlog.get_logger("kilowatt.configuration")

SYSTEM = "system"  # requested_by for commands the CSMS sends on its own

# The 2.0.1 variable whose value is the password the station uses for HTTP Basic auth.
PASSWORD_COMPONENT, PASSWORD_VARIABLE = "SecurityCtrlr", "BasicAuthPassword"

# What a noted GetBaseReport asks for when its report replaces the stored device model.
FULL_INVENTORY = ReportBase.FULL_INVENTORY.value

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


def _variable_row(
    station_id: str,
    component: ComponentRef,
    variable: VariableRef,
    attribute_type: AttributeType | None,
    value: str | None,
    now: datetime,
) -> dict[str, object]:
    """A device-model row for one attribute (mutability left as reported: the upsert does not touch it)."""
    return {
        "station_id": station_id,
        "component": component.name,
        "component_instance": component.instance or "",
        "evse_id": component.evse_id or 0,
        "connector_id": component.connector_id or 0,
        "variable": variable.name,
        "variable_instance": variable.instance or "",
        "attribute_type": (attribute_type or AttributeType.ACTUAL).value,
        "value": _stored_value(variable.name, value),
        "updated_at": now,
    }


def new_request_id() -> int:
    """A requestId for a report the station sends later (NotifyReport and friends tag their parts with it)."""
    return random.randint(1, 2**31 - 1)


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

    async def variables(
        self, station_id: str, component: str | None = None, variable: str | None = None, evse_id: int | None = None
    ) -> list[VariableAttribute]:
        """The stored device model, filtered by component name, variable name and EVSE (no round trip)."""
        return [
            v
            for v in await self.device_model(station_id, component)
            if (variable is None or v.variable == variable) and (evse_id is None or v.evse_id == evse_id)
        ]

    async def get_variables(
        self, station_id: str, requests: list[VariableRequest], requested_by: str = SYSTEM
    ) -> CommandAnswer[GetVariablesResult]:
        """GetVariables; every attribute the station read out (Accepted) is stored."""
        answer: CommandAnswer[GetVariablesResult] = await self._commands.send(
            station_id, GetVariables(tuple(requests)), requested_by
        )
        now = utcnow()
        rows = [
            _variable_row(station_id, r.component, r.variable, r.attribute_type, r.value, now)
            for r in answer.result.readings
            if r.attribute_status == "Accepted"
        ]
        await self._store_rows(rows)
        return answer

    async def set_variables(
        self, station_id: str, settings: list[VariableSetting], requested_by: str
    ) -> CommandAnswer[SetVariablesResult]:
        """SetVariables; every attribute the station took (Accepted, RebootRequired) is stored with the value sent.

        The station answers per attribute, naming it; an answer is matched to the setting that names
        the same component, variable and attribute type. A new BasicAuthPassword it took is what it
        logs in with next, so the CSMS accepts it from then on.
        """
        answer: CommandAnswer[SetVariablesResult] = await self._commands.send(
            station_id, SetVariables(tuple(settings)), requested_by
        )
        sent = {_identity(s.component, s.variable, s.attribute_type): s for s in settings}
        taken = [
            sent[key]
            for change in answer.result.changes
            if change.attribute_status in ("Accepted", "RebootRequired")
            and (key := _identity(change.component, change.variable, change.attribute_type)) in sent
        ]
        now = utcnow()
        await self._store_rows(
            [_variable_row(station_id, s.component, s.variable, s.attribute_type, s.value, now) for s in taken]
        )
        for setting in taken:
            if _is_password(setting.component, setting.variable, setting.attribute_type) and self._on_password_changed is not None:
                await self._on_password_changed(station_id, setting.value)
        return answer

    async def request_report(
        self,
        station_id: str,
        report_base: ReportBase = ReportBase.FULL_INVENTORY,
        requested_by: str = SYSTEM,
        request_id: int | None = None,
    ) -> CommandAnswer:
        """GetBaseReport (with a fresh requestId unless given); the report itself arrives in NotifyReport
        messages. A FullInventory is noted first, so that once it is complete it replaces the stored
        device model; the note goes again when the station does not take the request."""
        request_id = request_id if request_id is not None else new_request_id()
        noted = False
        if report_base is ReportBase.FULL_INVENTORY:
            await self._commands.check_station(station_id)  # the note refers to the station
            noted = await self._writes.run(
                lambda connection: StationReportService.note_request(
                    connection, station_id, DEVICE_MODEL, request_id, FULL_INVENTORY
                )
            )
        try:
            answer = await self._commands.send(station_id, GetBaseReport(request_id, report_base), requested_by)
        except Exception:
            if noted:
                await self._forget_request(station_id, request_id)
            raise
        if noted and answer.status != "Accepted":
            await self._forget_request(station_id, request_id)
        return answer

    async def _forget_request(self, station_id: str, request_id: int) -> None:
        await self._writes.run(
            lambda connection: StationReportService.forget_request(connection, station_id, DEVICE_MODEL, request_id)
        )

    def request_report_in_background(self, station_id: str) -> None:
        """After an accepted 2.0.1 boot: ask for the full device model without holding up the answer
        (spread over ``fetch_delay_s`` like the 1.6 configuration fetch)."""
        task = asyncio.get_running_loop().create_task(self._report_quietly(station_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _report_quietly(self, station_id: str) -> None:
        try:
            if self._fetch_delay_s:
                await asyncio.sleep(random.uniform(0, self._fetch_delay_s))
            await self.request_report(station_id)
        except CommandFailed as exc:
            log.info("device model report not requested after boot", station_id=station_id, error=str(exc))
        except Exception:
            log.exception("device model report request failed", station_id=station_id)

    async def _store_rows(self, rows: list[dict[str, object]]) -> None:
        if not rows:
            return

        def store(connection: Connection) -> None:
            upsert_many(connection, _VARIABLES, rows, _PRIMARY_KEY)

        await self._writes.run(store)

    async def report(self, station_id: str, part: ReportPart, attributes: list[VariableAttribute]) -> None:
        """Store what one part of a device model report (2.0.1 NotifyReport) says, replacing what
        earlier reports said of the same attributes, and the part itself (so the report's
        completeness shows); a replayed part stores nothing. The part that completes a
        FullInventory the CSMS asked for also deletes what that report did not contain (see the
        module docstring). Returns after the commit."""
        rows = {}
        for attribute in attributes:  # an attribute reported twice in one part: the last one
            row = {name: getattr(attribute, name) for name in _REPORTED}
            row["value"] = _stored_value(attribute.variable, attribute.value)
            rows[tuple(row[name] for name in _KEY_ORDER)] = {"station_id": station_id, **row}

        def store(connection: Connection) -> None:
            outcome = StationReportService.record_part(connection, part)
            if not outcome.new:
                return
            requested_at = StationReportService.requested_at(connection, outcome.report_id, FULL_INVENTORY)
            # Never older than the request, whatever this node's clock says: the deletion below
            # keeps exactly what is not older than the request.
            stamp = utcnow() if requested_at is None else max(utcnow(), requested_at)
            upsert_many(connection, _VARIABLES, [{**row, "updated_at": stamp} for row in rows.values()], _PRIMARY_KEY)
            if outcome.complete and requested_at is not None:
                connection.execute(
                    delete(_VARIABLES).where(_VARIABLES.c.station_id == station_id, _VARIABLES.c.updated_at < requested_at)
                )

        await self._writes.run(store)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)


def _is_password(component: ComponentRef, variable: VariableRef, attribute_type: AttributeType | None) -> bool:
    """SecurityCtrlr.BasicAuthPassword's Actual value, however the operator spelled the names (CiString)."""
    return (component.name.casefold(), variable.name.casefold()) == (
        PASSWORD_COMPONENT.casefold(),
        PASSWORD_VARIABLE.casefold(),
    ) and (attribute_type or AttributeType.ACTUAL) == AttributeType.ACTUAL


def _identity(component: ComponentRef, variable: VariableRef, attribute_type: AttributeType | None) -> tuple[object, ...]:
    """What names one attribute: absent instances, EVSE and attribute type in their stored spelling."""
    return (
        component.name.casefold(),  # 2.0.1 names are case-insensitive (CiString)
        (component.instance or "").casefold(),
        component.evse_id or 0,
        component.connector_id or 0,
        variable.name.casefold(),
        (variable.instance or "").casefold(),
        attribute_type or AttributeType.ACTUAL,
    )
