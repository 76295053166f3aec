"""Monitoring: the events stations notify (NotifyEvent) and the monitors they report (NotifyMonitoringReport).

An *event* is something a station noticed about one variable of one component (OCPP 2.0.1 Part 1
§4, Part 2 N07/N08): a monitor tripped (Alerting, Delta), a periodic report, or a hard-wired
notification. Events stand alone — each is an alert worth seeing at once — so they are shown as
they arrive, not held back until a multi-part NotifyEvent is whole; the part (``seq_no``, ``tbc``,
``generated_at``) each came in is kept with it. An event is stored once by (station, eventId,
timestamp): a replayed NotifyEvent is answered and adds nothing.

A *monitor* is a rule the station applies to a variable (threshold, delta, periodic) with a
severity. NotifyMonitoringReport answers a GetMonitoringReport in numbered parts; its monitors are
shown once the report is whole (see :mod:`kilowatt.services.station_reports`).

Owns ``monitoring_events`` and ``variable_monitors``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from kilowatt.bus.base import Bus, Event
from kilowatt.jobs.outbox import Outbox
from kilowatt.services.common import Page, from_row, paginate
from kilowatt.services.station_reports import MONITORING, ReportPart, StationReportRecord, StationReportService
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import MonitoringEvent, VariableMonitor, utcnow

_INSERT_MONITOR = insert(VariableMonitor.__table__)
_INSERT_IGNORE = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
_EVENT_KEY = ["station_id", "event_id", "timestamp"]


@dataclass(slots=True, frozen=True)
class ComponentVariable:
    """A variable of a component, optionally on an EVSE/connector (OCPP 2.0.1 Part 1 §4)."""

    component: str
    variable: str
    component_instance: str | None = None
    evse_id: int | None = None
    connector_id: int | None = None
    variable_instance: str | None = None


@dataclass(slots=True, frozen=True)
class MonitoringEventData:
    """One event as a station notified it."""

    event_id: int
    timestamp: datetime
    trigger: str  # Alerting | Delta | Periodic
    actual_value: str
    event_notification_type: str  # HardWiredNotification | HardWiredMonitor | PreconfiguredMonitor | CustomMonitor
    target: ComponentVariable
    cause: int | None = None
    tech_code: str | None = None
    tech_info: str | None = None
    cleared: bool | None = None
    station_transaction_id: str | None = None  # the station's transactionId of the transaction it happened in
    variable_monitoring_id: int | None = None  # the monitor that triggered it


@dataclass(slots=True, frozen=True)
class MonitoringEventRecord:
    id: int
    station_id: str
    event_id: int
    timestamp: datetime
    trigger: str
    cause: int | None
    actual_value: str
    tech_code: str | None
    tech_info: str | None
    cleared: bool | None
    station_transaction_id: str | None
    variable_monitoring_id: int | None
    event_notification_type: str
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    seq_no: int
    tbc: bool
    generated_at: datetime
    received_at: datetime


@dataclass(slots=True, frozen=True)
class ReportedMonitor:
    """One monitor as a station reported it."""

    monitor_id: int
    target: ComponentVariable
    type: str  # UpperThreshold | LowerThreshold | Delta | Periodic | PeriodicClockAligned
    value: float
    severity: int  # 0 (Danger) .. 9 (Debug)
    transaction: bool  # only active while a transaction runs
    # 2.1 (required there): HardWiredMonitor | PreconfiguredMonitor | CustomMonitor; 2.0.1 has no such field
    event_notification_type: str | None = None


@dataclass(slots=True, frozen=True)
class MonitorRecord:
    id: int
    monitor_id: int
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    type: str
    value: float
    severity: int
    transaction: bool
    event_notification_type: str | None
    seq_no: int


@dataclass(slots=True, frozen=True)
class MonitorsView:
    report: StationReportRecord | None  # None: no complete report yet, so no monitors
    monitors: Page[MonitorRecord]


class MonitoringService:
    def __init__(
        self, sessions: SessionFactory, writes: WriteBatcher, reports: StationReportService, bus: Bus, outbox: Outbox
    ):
        self._sessions = sessions
        self._writes = writes
        self._reports = reports
        self._bus = bus
        self._outbox = outbox

    async def record_events(
        self, station_id: str, generated_at: datetime, seq_no: int, tbc: bool, events: Sequence[MonitoringEventData]
    ) -> int:
        """Store the events of one NotifyEvent part; returns how many were new (a replay adds none)."""
        now = utcnow()
        rows = [
            {
                "station_id": station_id,
                **{name: value for name, value in asdict(event).items() if name != "target"},
                **asdict(event.target),
                "seq_no": seq_no,
                "tbc": tbc,
                "generated_at": generated_at,
                "received_at": now,
            }
            for event in events
        ]

        def write(connection: Connection) -> tuple[int, list[Event]]:
            statement = _INSERT_IGNORE[connection.dialect.name](MonitoringEvent.__table__).on_conflict_do_nothing(
                index_elements=_EVENT_KEY
            )
            new = sum(connection.execute(statement, row).rowcount for row in rows)
            # Durable (the outbox), with the rows: alerts act on what stations report. A replay adds no row, no event.
            events = [Event("monitoring.events", station_id, {"new": new, "seq_no": seq_no})] if new else []
            Outbox.record(connection, events)
            return new, events

        new, events = await self._writes.run(write) if rows else (0, [])
        await self._outbox.publish_committed(events)
        return new

    async def record_monitoring_report(
        self,
        station_id: str,
        request_id: int,
        seq_no: int,
        tbc: bool,
        generated_at: datetime,
        monitors: Sequence[ReportedMonitor],
    ) -> bool:
        """Store one NotifyMonitoringReport part; returns whether the report is whole now."""
        part = ReportPart(station_id, MONITORING, request_id, tbc, seq_no, generated_at, None)

        def write(connection: Connection) -> bool:
            outcome = StationReportService.record_part(connection, part)
            if outcome.new and monitors:
                connection.execute(
                    _INSERT_MONITOR,
                    [
                        {
                            "report_id": outcome.report_id,
                            "monitor_id": m.monitor_id,
                            **asdict(m.target),
                            "type": m.type,
                            "value": m.value,
                            "severity": m.severity,
                            "transaction": m.transaction,
                            "event_notification_type": m.event_notification_type,
                            "seq_no": outcome.seq_no,
                        }
                        for m in monitors
                    ],
                )
            return outcome.complete and outcome.new

        completed = await self._writes.run(write)
        if completed:
            await self._bus.publish(Event("monitoring.report", station_id, {"request_id": request_id}))
        return completed

    async def events(
        self, station_id: str, limit: int = 50, offset: int = 0, component: str | None = None
    ) -> Page[MonitoringEventRecord]:
        """Events newest first (by the station's timestamp)."""
        query = select(MonitoringEvent).where(MonitoringEvent.station_id == station_id)
        if component:
            query = query.where(MonitoringEvent.component == component)
        async with self._sessions() as session:
            page = await paginate(session, query, [MonitoringEvent.timestamp.desc(), MonitoringEvent.id.desc()], limit, offset)
        return page.map(lambda row: from_row(row, MonitoringEventRecord))

    async def monitors(self, station_id: str, request_id: int | None = None, limit: int = 50, offset: int = 0) -> MonitorsView:
        """The monitors of the latest complete monitoring report (or of ``request_id``'s, once complete)."""
        report = await self._reports.complete_report(station_id, MONITORING, request_id)
        if report is None:
            return MonitorsView(None, Page.empty(limit, offset))
        query = select(VariableMonitor).where(VariableMonitor.report_id == report.id)
        async with self._sessions() as session:
            page = await paginate(
                session,
                query,
                [VariableMonitor.component, VariableMonitor.variable, VariableMonitor.monitor_id, VariableMonitor.id],
                limit,
                offset,
            )
        return MonitorsView(report, page.map(lambda row: from_row(row, MonitorRecord)))
