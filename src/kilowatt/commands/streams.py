"""Periodic event streams (OCPP 2.1 block N): a station streams a monitored variable's values
at a set interval instead of one NotifyEvent each. The station opens a stream
(OpenPeriodicEventStream) and sends its data as SENDs; the CSMS lists and adjusts them.
"""

from __future__ import annotations

from dataclasses import dataclass

from kilowatt.commands.model import Command, Result
from kilowatt.commands.status_info import StatusInfoResult


@dataclass(slots=True, frozen=True)
class StreamParams:
    """Send after ``interval_s`` seconds or ``values`` values, whichever comes first (0 or None: not used)."""

    interval_s: int | None = None
    values: int | None = None


@dataclass(slots=True, frozen=True)
class EventStream:
    stream_id: int
    variable_monitoring_id: int
    params: StreamParams


@dataclass(slots=True, frozen=True)
class GetPeriodicEventStreamResult(Result):
    streams: tuple[EventStream, ...] = ()
    status: None = None


@dataclass(slots=True, frozen=True)
class GetPeriodicEventStream(Command):
    operation = "get_periodic_event_streams"
    result = GetPeriodicEventStreamResult


@dataclass(slots=True, frozen=True)
class AdjustPeriodicEventStream(Command):
    operation = "adjust_periodic_event_stream"
    result = StatusInfoResult
    stream_id: int
    params: StreamParams


COMMANDS: tuple[type[Command], ...] = (GetPeriodicEventStream, AdjustPeriodicEventStream)
RESULTS: tuple[type[Result], ...] = (GetPeriodicEventStreamResult,)
