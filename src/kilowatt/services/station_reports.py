"""Reports that stations send in parts: which parts came, and whether a report is whole.

Several OCPP 2.0.1 messages answer one request of the CSMS (its ``requestId``) in as many messages
as the station needs, each with ``tbc`` ("to be continued") true but the last:
NotifyMonitoringReport, NotifyCustomerInformation (both also numbered by ``seqNo`` from 0),
ReportChargingProfiles and NotifyDisplayMessages (not numbered). Each part is stored as it comes,
by the service of its domain, in the same commit as this bookkeeping; the API shows a report's
content only once it is *complete*: its last part arrived, and for numbered parts every part
before it too (parts may arrive out of order when a station replays them after a reconnect).

A part is stored once by its key — its ``seqNo``, or for parts without one a digest of the part —
so a replayed part is answered and stores nothing (:attr:`PartOutcome.new` is False).

A report the CSMS asked for can be *noted* before the request goes out
(:meth:`StationReportService.note_request`): the report's row is created with a marker part naming
what was asked (``request:<what>``, seqNo -1, never counted as a part), so whoever stores the parts
knows, whatever the order in which the station's answer and its first part arrive, that this
requestId answers e.g. a device model FullInventory — one that replaces what was stored before.

This service owns ``station_reports`` and ``station_report_parts``. The domain services call
:meth:`StationReportService.record_part` inside their own batched write (a plain function of the
connection), so a part and its content are committed together or not at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from kilowatt.services.common import Conflict, NotFound, Page, from_row, paginate
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import StationReport, StationReportPart, utcnow

# The kinds of report, one per domain that receives reports in parts.
MONITORING = "monitoring"
CHARGING_PROFILES = "charging_profiles"
DISPLAY_MESSAGES = "display_messages"
CUSTOMER_INFORMATION = "customer_information"
DEVICE_MODEL = "device_model"
KINDS = (MONITORING, CHARGING_PROFILES, DISPLAY_MESSAGES, CUSTOMER_INFORMATION, DEVICE_MODEL)

_INSERT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@dataclass(slots=True, frozen=True)
class ReportPart:
    """One message of a report, as the edge read it."""

    station_id: str
    kind: str
    request_id: int
    tbc: bool
    seq_no: int | None  # None: the message numbers no parts; the digest identifies it
    generated_at: datetime | None
    content: Any  # what the part says, in the domain's form: digested when seq_no is None


@dataclass(slots=True, frozen=True)
class PartOutcome:
    report_id: int
    seq_no: int  # as sent, or the order of arrival
    new: bool  # False: this part was stored before (a replay); store nothing for it
    complete: bool  # the report is whole (with this part or before it)


@dataclass(slots=True, frozen=True)
class StationReportRecord:
    """How far a report has come."""

    id: int
    station_id: str
    kind: str
    request_id: int
    part_count: int
    final_seq_no: int | None
    complete: bool
    first_received_at: datetime
    completed_at: datetime | None


def part_digest(content: Any) -> str:
    """A stable key for a part that has no seqNo: the SHA-256 of its content as canonical JSON."""
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


class StationReportService:
    def __init__(self, sessions: SessionFactory):
        self._sessions = sessions

    # --- write side: called inside another service's batched write -----------------------------

    @staticmethod
    def record_part(connection: Connection, part: ReportPart) -> PartOutcome:
        """Store ``part`` once and bring its report's completeness up to date (no commit: the caller's batch commits)."""
        insert = _INSERT[connection.dialect.name]
        reports = StationReport.__table__
        key = {"station_id": part.station_id, "kind": part.kind, "request_id": part.request_id}
        connection.execute(
            insert(reports)
            .values(**key, part_count=0, complete=False, first_received_at=utcnow())
            .on_conflict_do_nothing(index_elements=list(key))
        )
        report = connection.execute(
            select(reports.c.id, reports.c.part_count, reports.c.final_seq_no, reports.c.complete).where(
                *(reports.c[name] == value for name, value in key.items())
            )
        ).one()
        numbered = part.seq_no is not None
        seq_no = part.seq_no if part.seq_no is not None else report.part_count
        part_key = str(part.seq_no) if numbered else part_digest(part.content)
        inserted = connection.execute(
            insert(StationReportPart.__table__)
            .values(
                report_id=report.id,
                part_key=part_key,
                seq_no=seq_no,
                tbc=part.tbc,
                generated_at=part.generated_at,
                received_at=utcnow(),
            )
            .on_conflict_do_nothing(index_elements=["report_id", "part_key"])
        ).rowcount
        if not inserted:
            if not numbered:  # the same content again: answer with the seq_no it was stored under
                seq_no = connection.execute(
                    select(StationReportPart.seq_no).where(
                        StationReportPart.report_id == report.id, StationReportPart.part_key == part_key
                    )
                ).scalar_one()
            return PartOutcome(report.id, seq_no, new=False, complete=report.complete)

        final_seq_no = report.final_seq_no
        if not part.tbc and (final_seq_no is None or seq_no < final_seq_no):
            final_seq_no = seq_no
        complete = report.complete or (
            final_seq_no is not None and _all_parts_up_to(connection, report.id, final_seq_no, numbered)
        )
        values: dict[str, Any] = {"part_count": report.part_count + 1, "final_seq_no": final_seq_no, "complete": complete}
        if complete and not report.complete:
            values["completed_at"] = utcnow()
        connection.execute(update(reports).where(reports.c.id == report.id).values(**values))
        return PartOutcome(report.id, seq_no, new=True, complete=complete)

    @staticmethod
    def note_request(connection: Connection, station_id: str, kind: str, request_id: int, what: str) -> bool:
        """Note, before sending the request, that ``request_id`` asks the station for a ``kind`` report
        of ``what``; False (nothing noted) when a report already has this requestId.

        The marker part's ``received_at`` is when the CSMS asked: everything the report's parts store
        is newer (see :meth:`requested_at`). The station must not exist only in the caller's mind: the
        report row refers to it.
        """
        insert = _INSERT[connection.dialect.name]
        reports = StationReport.__table__
        now = utcnow()
        report_id = connection.execute(
            insert(reports)
            .values(station_id=station_id, kind=kind, request_id=request_id, part_count=0, complete=False, first_received_at=now)
            .on_conflict_do_nothing(index_elements=["station_id", "kind", "request_id"])
            .returning(reports.c.id)
        ).scalar()
        if report_id is None:
            return False
        connection.execute(
            insert(StationReportPart.__table__).values(
                report_id=report_id, part_key=_request_key(what), seq_no=_REQUEST_SEQ_NO, tbc=True, received_at=now
            )
        )
        return True

    @staticmethod
    def requested_at(connection: Connection, report_id: int, what: str) -> datetime | None:
        """When the CSMS asked for report ``report_id`` as ``what`` (:meth:`note_request`); None if it did not."""
        parts = StationReportPart.__table__
        return connection.execute(
            select(parts.c.received_at).where(parts.c.report_id == report_id, parts.c.part_key == _request_key(what))
        ).scalar()

    @staticmethod
    def forget_request(connection: Connection, station_id: str, kind: str, request_id: int) -> None:
        """Undo :meth:`note_request` when the station did not take the request: the noted report goes
        unless a part of it came anyway (then it stays, with its marker)."""
        reports, parts = StationReport.__table__, StationReportPart.__table__
        key = (reports.c.station_id == station_id, reports.c.kind == kind, reports.c.request_id == request_id)
        report_id = connection.execute(select(reports.c.id).where(*key, reports.c.part_count == 0)).scalar()
        if report_id is not None:
            connection.execute(delete(parts).where(parts.c.report_id == report_id))
            connection.execute(delete(reports).where(reports.c.id == report_id))

    # --- reads --------------------------------------------------------------------------------

    async def refuse_used_request_id(self, station_id: str, kind: str, request_id: int) -> None:
        """Conflict when ``request_id`` already tagged a ``kind`` report of the station.

        Parts are keyed by (report, seqNo): a second request with the same id would have its parts
        answered as replays of the first and never stored, so the operator must pick another id.
        """
        query = select(StationReport.id).where(
            StationReport.station_id == station_id, StationReport.kind == kind, StationReport.request_id == request_id
        )
        async with self._sessions() as session:
            if (await session.execute(query.limit(1))).first() is not None:
                raise Conflict(
                    f"requestId {request_id} already tagged a {kind} report of station {station_id!r}; "
                    "send another request_id, or none and Kilowatt picks one"
                )

    async def list(self, station_id: str, kind: str | None = None, limit: int = 50, offset: int = 0) -> Page[StationReportRecord]:
        """The station's reports, newest first."""
        query = select(StationReport).where(StationReport.station_id == station_id)
        if kind:
            query = query.where(StationReport.kind == kind)
        async with self._sessions() as session:
            page = await paginate(session, query, StationReport.id.desc(), limit, offset)
        return page.map(lambda row: from_row(row, StationReportRecord))

    async def complete_report(self, station_id: str, kind: str, request_id: int | None = None) -> StationReportRecord | None:
        """The report of ``kind`` for ``request_id``, or the latest complete one when None.

        None when no request id is given and no report is complete yet (the lists are then empty:
        a station that never reported has nothing to show, which is not an error). NotFound when
        ``request_id``'s report never came; Conflict when it has not arrived whole yet.
        """
        query = select(StationReport).where(StationReport.station_id == station_id, StationReport.kind == kind)
        if request_id is None:
            query = query.where(StationReport.complete.is_(True)).order_by(
                StationReport.completed_at.desc(), StationReport.id.desc()
            )
        else:
            query = query.where(StationReport.request_id == request_id)
        async with self._sessions() as session:
            row = (await session.execute(query.limit(1))).scalars().first()
        if row is None:
            if request_id is None:
                return None
            raise NotFound(f"station {station_id!r} has sent no {kind} report with requestId {request_id}")
        report = from_row(row, StationReportRecord)
        if not report.complete:
            raise Conflict(
                f"{kind} report {request_id} of station {station_id!r} is not complete yet: "
                f"{report.part_count} part(s) received"
                + ("" if report.final_seq_no is None else f", the last one is part {report.final_seq_no}")
            )
        return report


_REQUEST_SEQ_NO = -1  # the marker of a noted request: below every part's seqNo, never counted as one


def _request_key(what: str) -> str:
    return f"request:{what}"


def _all_parts_up_to(connection: Connection, report_id: int, final_seq_no: int, numbered: bool) -> bool:
    """Whether the parts 0..``final_seq_no`` are all stored (for unnumbered parts, the last one suffices)."""
    if not numbered:
        return True
    parts = StationReportPart.__table__
    count = connection.execute(
        select(func.count())
        .select_from(parts)
        .where(parts.c.report_id == report_id, parts.c.seq_no >= 0, parts.c.seq_no <= final_seq_no)
    ).scalar_one()
    return count == final_seq_no + 1
