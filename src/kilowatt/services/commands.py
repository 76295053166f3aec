"""CSMS->station commands: send through the bus, wait for the station's real answer, record it all.

An operation is named in version-agnostic terms (``reset``, ``remote_start``...) with snake_case
parameters; the station's protocol version's translator (``kilowatt.ocpp.<version>.commands``) turns
it into that version's action and payload. Every command is stored with who asked, what was sent,
what came back and how long it took — whatever the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from sqlalchemy import insert, select

from kilowatt.bus.base import Bus
from kilowatt.rpc.errors import CallError, CallQueueFull, CallTimeout, OcppError, StationDisconnected
from kilowatt.services.common import Page, paginate
from kilowatt.services.redaction import redact
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import CommandRecord, utcnow

log = structlog.get_logger("kilowatt.commands")

_COMMANDS = CommandRecord.__table__
_INSERT_RECORD = insert(_COMMANDS).returning(_COMMANDS.c.id)
_RECORD_COLUMNS = tuple(column.key for column in _COMMANDS.columns if column.key != "id")


class CommandTranslator(Protocol):
    """Maps version-agnostic operations onto one OCPP version (one per ``ocpp/<version>``)."""

    def request(self, operation: str, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        """The action and payload for ``operation``; raises :class:`UnsupportedOperation`."""

    def answer(self, operation: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The station's answer in version-agnostic snake_case terms."""


class CommandFailed(Exception):
    """A command that did not get an answer from the station; ``outcome`` says why."""

    outcome = "failed"

    def __init__(self, message: str, command_id: int | None = None):
        super().__init__(message)
        self.command_id = command_id


class StationOffline(CommandFailed):
    outcome = "offline"


class StationBusy(CommandFailed):
    outcome = "busy"


class CommandTimedOut(CommandFailed):
    outcome = "timeout"


class InvalidCommand(CommandFailed):
    outcome = "invalid"


class UnsupportedOperation(InvalidCommand):
    """The station's protocol version has no such operation."""


class StationError(CommandFailed):
    """The station answered with a CALLERROR (or an answer its schema forbids)."""

    outcome = "call_error"

    def __init__(self, message: str, code: str, description: str, details: dict[str, Any], command_id: int | None = None):
        super().__init__(message, command_id)
        self.code = code
        self.description = description
        self.details = details


@dataclass(slots=True, frozen=True)
class CommandAnswer:
    """A station's answer to a command, as the API returns it."""

    command_id: int
    station_id: str
    operation: str
    action: str
    status: str | None  # the answer's "status" field, when it has one
    response: dict[str, Any]  # exactly what the station sent
    answer: dict[str, Any]  # the same in version-agnostic snake_case terms
    duration_ms: float


class CommandService:
    def __init__(
        self,
        sessions: SessionFactory,
        writes: WriteBatcher,
        bus: Bus,
        translators: Mapping[str, CommandTranslator],
        station_version: Callable[[str], Awaitable[str | None]],
    ):
        """``station_version`` is the station service's answer to "which OCPP version does it speak?"."""
        self._sessions = sessions
        self._writes = writes
        self._station_version = station_version
        self._bus = bus
        self._translators = translators

    async def send(
        self, station_id: str, operation: str, params: Mapping[str, Any], requested_by: str, timeout_s: float | None = None
    ) -> CommandAnswer:
        """Send ``operation`` to the station and return its answer; raises a :class:`CommandFailed`."""
        version = await self._station_version(station_id)  # NotFound for an unknown station
        translator = self._translators.get(version or "")
        # requested_at is when we asked, not when the record is written (after the answer): what the
        # station reports afterwards (firmware, diagnostics notifications) is ordered against it.
        record = CommandRecord(
            station_id=station_id, operation=operation, requested_by=requested_by, request=redact(dict(params)), requested_at=utcnow()
        )
        started = time.perf_counter()
        try:
            if translator is None:
                raise StationOffline(f"station {station_id!r} has never connected, so its OCPP version is unknown")
            action, payload = translator.request(operation, params)
            record.action, record.request = action, redact(payload)  # e.g. a new AuthorizationKey
            response = await self._bus.call_station(station_id, action, payload, timeout_s)
        except CommandFailed as exc:
            await self._record(record, exc.outcome, started, error=str(exc))
            exc.command_id = record.id
            raise
        except OcppError as exc:  # our own payload broke the schema: the request was invalid
            await self._record(record, "invalid", started, error=exc.description)
            raise InvalidCommand(exc.description, record.id) from None
        except StationDisconnected as exc:
            await self._record(record, "offline", started, error=str(exc))
            raise StationOffline(f"station {station_id!r} is not connected", record.id) from None
        except CallQueueFull as exc:
            await self._record(record, "busy", started, error=str(exc))
            raise StationBusy(f"station {station_id!r} has too many commands waiting: {exc}", record.id) from None
        except CallTimeout as exc:
            await self._record(record, "timeout", started, error=str(exc))
            raise CommandTimedOut(f"station {station_id!r} did not answer: {exc}", record.id) from None
        except CallError as exc:
            record.error_code = exc.code
            await self._record(record, "call_error", started, error=exc.description)
            raise StationError(
                f"station {station_id!r} answered {record.action} with {exc.code}: {exc.description}",
                exc.code,
                exc.description,
                exc.details,
                record.id,
            ) from None
        status = response.get("status") if isinstance(response.get("status"), str) else None
        record.status, record.response = status, redact(response)
        duration_ms = await self._record(record, "answered", started)
        assert translator is not None
        return CommandAnswer(
            record.id, station_id, operation, record.action or "", status, response, translator.answer(operation, response), duration_ms
        )

    async def _record(self, record: CommandRecord, outcome: str, started: float, error: str | None = None) -> float:
        record.duration_ms = round((time.perf_counter() - started) * 1000, 3)
        record.outcome = outcome
        record.error_description = error
        values = {column: getattr(record, column) for column in _RECORD_COLUMNS}
        record.id = await self._writes.run(lambda connection: connection.execute(_INSERT_RECORD, values).scalar_one())
        log.info(
            "command",
            station_id=record.station_id,
            operation=record.operation,
            outcome=outcome,
            status=record.status,
            duration_ms=record.duration_ms,
        )
        return record.duration_ms

    async def list(self, station_id: str, limit: int = 50, offset: int = 0, operation: str | None = None) -> Page[CommandRecord]:
        query = select(CommandRecord).where(CommandRecord.station_id == station_id)
        if operation:
            query = query.where(CommandRecord.operation == operation)
        async with self._sessions() as session:
            return await paginate(session, query, CommandRecord.id.desc(), limit, offset)
