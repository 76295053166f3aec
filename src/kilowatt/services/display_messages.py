"""Display messages: what a station reports it shows drivers on its screens (NotifyDisplayMessages).

A station answers a GetDisplayMessages in one or more NotifyDisplayMessages with the same
requestId (``tbc`` on all but the last; the parts are not numbered). The messages are shown once
the report is whole; a part sent twice is stored once (see :mod:`kilowatt.services.station_reports`).

Owns ``display_messages``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from kilowatt.bus.base import Bus, Event
from kilowatt.services.common import Page, from_row, paginate
from kilowatt.services.station_reports import DISPLAY_MESSAGES, ReportPart, StationReportRecord, StationReportService
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import DisplayMessage

_INSERT = insert(DisplayMessage.__table__)


@dataclass(slots=True, frozen=True)
class DisplayMessageInfo:
    """One message as the station reported it (OCPP 2.0.1 MessageInfoType)."""

    message_id: int
    priority: str  # AlwaysFront | InFront | NormalCycle
    message_format: str  # ASCII | HTML | URI | UTF8
    content: str
    language: str | None = None
    state: str | None = None  # Charging | Faulted | Idle | Unavailable: shown only in that state
    start_at: datetime | None = None
    end_at: datetime | None = None
    station_transaction_id: str | None = None  # shown only during that transaction
    display_component: str | None = None  # the display it is shown on, when the station has several
    display_component_instance: str | None = None
    display_evse_id: int | None = None
    display_connector_id: int | None = None


@dataclass(slots=True, frozen=True)
class DisplayMessageRecord:
    id: int
    message_id: int
    priority: str
    state: str | None
    start_at: datetime | None
    end_at: datetime | None
    station_transaction_id: str | None
    message_format: str
    language: str | None
    content: str
    display_component: str | None
    display_component_instance: str | None
    display_evse_id: int | None
    display_connector_id: int | None
    seq_no: int


@dataclass(slots=True, frozen=True)
class DisplayMessagesView:
    report: StationReportRecord | None  # None: no complete report yet, so no messages
    messages: Page[DisplayMessageRecord]


class DisplayMessageService:
    def __init__(self, sessions: SessionFactory, writes: WriteBatcher, reports: StationReportService, bus: Bus):
        self._sessions = sessions
        self._writes = writes
        self._reports = reports
        self._bus = bus

    async def record_report(self, station_id: str, request_id: int, tbc: bool, messages: Sequence[DisplayMessageInfo]) -> bool:
        """Store one NotifyDisplayMessages part; returns whether the report is whole now."""
        content = [asdict(message) for message in messages]
        part = ReportPart(station_id, DISPLAY_MESSAGES, request_id, tbc, None, None, content)

        def write(connection: Connection) -> bool:
            outcome = StationReportService.record_part(connection, part)
            if outcome.new and content:
                connection.execute(
                    _INSERT, [{"report_id": outcome.report_id, **row, "seq_no": outcome.seq_no} for row in content]
                )
            return outcome.complete and outcome.new

        completed = await self._writes.run(write)
        if completed:
            await self._bus.publish(Event("display_messages.report", station_id, {"request_id": request_id}))
        return completed

    async def messages(
        self, station_id: str, request_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> DisplayMessagesView:
        """The messages of the latest complete report (or of ``request_id``'s, once complete), by message id."""
        report = await self._reports.complete_report(station_id, DISPLAY_MESSAGES, request_id)
        if report is None:
            return DisplayMessagesView(None, Page.empty(limit, offset))
        query = select(DisplayMessage).where(DisplayMessage.report_id == report.id)
        async with self._sessions() as session:
            page = await paginate(session, query, [DisplayMessage.message_id, DisplayMessage.id], limit, offset)
        return DisplayMessagesView(report, page.map(lambda row: from_row(row, DisplayMessageRecord)))
