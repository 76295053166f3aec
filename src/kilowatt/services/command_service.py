"""CSMS->station commands: send a typed command through the bus, wait for the station's real answer, record it all.

A command is a typed, version-neutral object (:mod:`kilowatt.commands.model`). It travels in a
:class:`~kilowatt.commands.CommandEnvelope` to the node holding the station's socket, which encodes
it for the connection's OCPP version, sends it and decodes the answer into the command's typed
result (:mod:`kilowatt.ocpp.execute`). Every command is stored with who asked, what was sent,
what came back and how long it took — whatever the outcome.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import structlog
from sqlalchemy import insert, select

from kilowatt.bus.base import Bus
from kilowatt.commands import Command, CommandEnvelope, CommandErrorKind, CommandOutcome, Result, fields_of
from kilowatt.services.common import Page, from_row, paginate
from kilowatt.services.redaction import redact
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import CommandRecord, utcnow

log = structlog.get_logger("kilowatt.commands")

_COMMANDS = CommandRecord.__table__
_INSERT_RECORD = insert(_COMMANDS).returning(_COMMANDS.c.id)
_RECORD_COLUMNS = tuple(column.key for column in _COMMANDS.columns if column.key != "id")

R = TypeVar("R", bound=Result)


@dataclass(slots=True, frozen=True)
class CommandLogEntry:
    """A command as recorded: who asked, what was sent, what came back and how long it took."""

    id: int
    station_id: str
    operation: str  # version-agnostic, e.g. "reset"
    action: str | None  # the OCPP action sent, e.g. "Reset"
    request: dict[str, Any] | None
    outcome: str  # answered | call_error | timeout | offline | busy | invalid | unavailable
    status: str | None  # the station's "status" field, if its answer has one
    response: dict[str, Any] | None
    error_code: str | None
    error_description: str | None
    requested_by: str
    requested_at: datetime
    duration_ms: float | None


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


class BusUnavailable(CommandFailed):
    """The bus between nodes (Redis) could not be reached: the command was not sent; try again later."""

    outcome = "unavailable"


class StationError(CommandFailed):
    """The station answered with a CALLERROR (or an answer its schema forbids)."""

    outcome = "call_error"

    def __init__(self, message: str, code: str, description: str, details: dict[str, Any], command_id: int | None = None):
        super().__init__(message, command_id)
        self.code = code
        self.description = description
        self.details = details


_FAILURES: dict[CommandErrorKind, type[CommandFailed]] = {
    CommandErrorKind.OFFLINE: StationOffline,
    CommandErrorKind.BUSY: StationBusy,
    CommandErrorKind.TIMEOUT: CommandTimedOut,
    CommandErrorKind.INVALID: InvalidCommand,
    CommandErrorKind.UNAVAILABLE: BusUnavailable,
}


@dataclass(slots=True, frozen=True)
class CommandAnswer(Generic[R]):
    """A station's answer to a command: its typed result, and the payload exactly as it was sent."""

    command_id: int
    station_id: str
    command: Command
    action: str  # the OCPP action sent, e.g. Reset
    result: R
    response: dict[str, Any]  # exactly what the station sent
    duration_ms: float

    @property
    def operation(self) -> str:
        return self.command.operation

    @property
    def status(self) -> str | None:
        return self.result.status


class CommandService:
    def __init__(
        self,
        sessions: SessionFactory,
        writes: WriteBatcher,
        bus: Bus,
        station_exists: Callable[[str], Awaitable[object]],
    ):
        """``station_exists`` raises :class:`~kilowatt.services.common.NotFound` for an unknown station."""
        self._sessions = sessions
        self._writes = writes
        self._station_exists = station_exists
        self._bus = bus

    async def check_station(self, station_id: str) -> None:
        """NotFound for an unknown station: for a caller that writes about the station before sending to it."""
        await self._station_exists(station_id)

    async def send(self, station_id: str, command: Command, requested_by: str, timeout_s: float | None = None) -> CommandAnswer[Any]:
        """Send ``command`` to the station and return its typed answer; raises a :class:`CommandFailed`."""
        await self._station_exists(station_id)  # NotFound for an unknown station
        # requested_at is when we asked, not when the record is written (after the answer): what the
        # station reports afterwards (firmware, diagnostics notifications) is ordered against it.
        record = CommandRecord(
            station_id=station_id,
            operation=command.operation,
            requested_by=requested_by,
            request=redact(fields_of(command)),
            requested_at=utcnow(),
        )
        started = time.perf_counter()
        outcome = await self._bus.call_station(CommandEnvelope(station_id, command, timeout_s))
        if outcome.request is not None:  # what went on the wire, e.g. with a new AuthorizationKey hidden
            record.action, record.request = outcome.action, redact(outcome.request)
        if outcome.error is not None:
            error = outcome.error
            record.error_code = error.code
            await self._record(record, error.kind.value, started, error=error.description)
            raise self._failure(station_id, record, outcome)
        assert outcome.result is not None and outcome.response is not None
        record.status, record.response = outcome.result.status, redact(outcome.response)
        duration_ms = await self._record(record, "answered", started)
        return CommandAnswer(record.id, station_id, command, record.action or "", outcome.result, outcome.response, duration_ms)

    @staticmethod
    def _failure(station_id: str, record: CommandRecord, outcome: CommandOutcome) -> CommandFailed:
        error = outcome.error
        assert error is not None
        if error.kind is CommandErrorKind.CALL_ERROR:
            return StationError(
                f"station {station_id!r} answered {record.action} with {error.code}: {error.description}",
                error.code or "",
                error.description,
                error.details or {},
                record.id,
            )
        message = {
            CommandErrorKind.OFFLINE: f"station {station_id!r} is not connected",
            CommandErrorKind.BUSY: f"station {station_id!r} has too many commands waiting: {error.description}",
            CommandErrorKind.TIMEOUT: f"station {station_id!r} did not answer: {error.description}",
            CommandErrorKind.UNAVAILABLE: f"station {station_id!r} cannot be reached now: {error.description}",
        }.get(error.kind, error.description)
        return _FAILURES[error.kind](message, record.id)

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

    async def list(self, station_id: str, limit: int = 50, offset: int = 0, operation: str | None = None) -> Page[CommandLogEntry]:
        query = select(CommandRecord).where(CommandRecord.station_id == station_id)
        if operation:
            query = query.where(CommandRecord.operation == operation)
        async with self._sessions() as session:
            page = await paginate(session, query, CommandRecord.id.desc(), limit, offset)
        return page.map(lambda row: from_row(row, CommandLogEntry))
