"""Customer information: what a station reports it holds about a customer (NotifyCustomerInformation).

A station answers a CustomerInformation request (report = true) with numbered parts of free text
(``seqNo`` from 0, ``tbc`` on all but the last) under the request's requestId. A report is shown
once whole, its parts' text joined in seqNo order; a replayed part is stored once (see
:mod:`kilowatt.services.station_reports`).

Owns ``customer_information_parts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from kilowatt.bus.base import Bus, Event
from kilowatt.services.common import Page
from kilowatt.services.station_reports import CUSTOMER_INFORMATION, ReportPart, StationReportRecord, StationReportService
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import CustomerInformationPart

_INSERT = insert(CustomerInformationPart.__table__)


@dataclass(slots=True, frozen=True)
class CustomerInformationReport:
    """A report: its text (its parts' in seqNo order) once whole, else how far it came."""

    request_id: int
    complete: bool
    parts_received: int
    data: str | None  # None until the report is whole
    first_received_at: datetime
    completed_at: datetime | None


class CustomerInformationService:
    def __init__(self, sessions: SessionFactory, writes: WriteBatcher, reports: StationReportService, bus: Bus):
        self._sessions = sessions
        self._writes = writes
        self._reports = reports
        self._bus = bus

    async def record_part(
        self, station_id: str, request_id: int, seq_no: int, tbc: bool, generated_at: datetime, data: str
    ) -> bool:
        """Store one NotifyCustomerInformation part; returns whether the report is whole now."""
        part = ReportPart(station_id, CUSTOMER_INFORMATION, request_id, tbc, seq_no, generated_at, None)

        def write(connection: Connection) -> bool:
            outcome = StationReportService.record_part(connection, part)
            if outcome.new:
                connection.execute(
                    _INSERT, {"report_id": outcome.report_id, "seq_no": seq_no, "data": data, "generated_at": generated_at}
                )
            return outcome.complete and outcome.new

        completed = await self._writes.run(write)
        if completed:
            await self._bus.publish(Event("customer_information.report", station_id, {"request_id": request_id}))
        return completed

    async def reports(self, station_id: str, limit: int = 50, offset: int = 0) -> Page[CustomerInformationReport]:
        """The station's customer information reports, newest first."""
        page = await self._reports.list(station_id, CUSTOMER_INFORMATION, limit, offset)
        texts: dict[int, list[str]] = {}
        complete = {report.id: report.final_seq_no for report in page.items if report.complete}
        if complete:
            async with self._sessions() as session:
                rows = await session.execute(
                    select(CustomerInformationPart.report_id, CustomerInformationPart.seq_no, CustomerInformationPart.data)
                    .where(CustomerInformationPart.report_id.in_(list(complete)))
                    .order_by(CustomerInformationPart.report_id, CustomerInformationPart.seq_no)
                )
                for row in rows:
                    final_seq_no = complete[row.report_id]
                    if final_seq_no is None or row.seq_no <= final_seq_no:  # nothing past the last part
                        texts.setdefault(row.report_id, []).append(row.data)

        def out(report: StationReportRecord) -> CustomerInformationReport:
            return CustomerInformationReport(
                request_id=report.request_id,
                complete=report.complete,
                parts_received=report.part_count,
                data="".join(texts.get(report.id, [])) if report.complete else None,
                first_received_at=report.first_received_at,
                completed_at=report.completed_at,
            )

        return page.map(out)
