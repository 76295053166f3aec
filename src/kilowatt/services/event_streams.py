"""Periodic event streams (OCPP 2.1 block N): a station streams a monitored variable's values.

The station opens a stream (stored, answered Accepted), sends its data as SENDs (stored when
the stream is known and open; a SEND cannot be refused, so data for an unknown or closed stream
is dropped and logged) and closes it. Opening an id again reopens it with the new parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select, update

from kilowatt.services.common import from_row
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.energy_models import EventStream, EventStreamData
from kilowatt.storage.models import utcnow
from kilowatt.storage.upsert import upsert

log = structlog.get_logger("kilowatt.event_streams")

MAX_DATA_PAGE = 500


@dataclass(slots=True, frozen=True)
class StreamRecord:
    station_id: str
    stream_id: int
    variable_monitoring_id: int
    interval_s: int | None
    values: int | None
    opened_at: datetime
    closed_at: datetime | None


@dataclass(slots=True, frozen=True)
class StreamData:
    stream_id: int
    basetime: datetime
    pending: int
    values: list[dict[str, Any]]  # [{"t": seconds after basetime, "v": value}]
    received_at: datetime


class EventStreamService:
    def __init__(self, sessions: SessionFactory):
        self._sessions = sessions

    async def open(
        self, station_id: str, stream_id: int, variable_monitoring_id: int, interval_s: int | None, values: int | None
    ) -> None:
        row = {
            "station_id": station_id,
            "stream_id": stream_id,
            "variable_monitoring_id": variable_monitoring_id,
            "interval_s": interval_s,
            "values": values,
            "opened_at": utcnow(),
            "closed_at": None,
        }
        async with self._sessions.begin() as session:
            await session.run_sync(lambda s: upsert(s.connection(), EventStream.__table__, row, ("station_id", "stream_id")))

    async def close(self, station_id: str, stream_id: int) -> bool:
        """Mark the stream closed; False when the station never opened it (nothing to close)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(EventStream)
                .where(EventStream.station_id == station_id, EventStream.stream_id == stream_id, EventStream.closed_at.is_(None))
                .values(closed_at=utcnow())
            )
        return bool(result.rowcount)

    async def record_data(
        self, station_id: str, stream_id: int, basetime: datetime, pending: int, values: list[dict[str, Any]]
    ) -> bool:
        """Store one batch of a stream's values; False (nothing stored) for a stream not open."""
        async with self._sessions.begin() as session:
            stream = await session.get(EventStream, (station_id, stream_id))
            if stream is None or stream.closed_at is not None:
                log.warning("stream data for a stream that is not open, dropped", station_id=station_id, stream_id=stream_id)
                return False
            session.add(
                EventStreamData(
                    station_id=station_id, stream_id=stream_id, basetime=basetime, pending=pending, data={"values": values}
                )
            )
        return True

    async def streams(self, station_id: str) -> list[StreamRecord]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(EventStream).where(EventStream.station_id == station_id).order_by(EventStream.stream_id)
            )
            return [from_row(row, StreamRecord) for row in rows.scalars()]

    async def data(self, station_id: str, stream_id: int, limit: int = MAX_DATA_PAGE) -> list[StreamData]:
        """The stream's most recent batches, oldest first."""
        query = (
            select(EventStreamData)
            .where(EventStreamData.station_id == station_id, EventStreamData.stream_id == stream_id)
            .order_by(EventStreamData.id.desc())
            .limit(min(limit, MAX_DATA_PAGE))
        )
        async with self._sessions() as session:
            rows = list((await session.execute(query)).scalars())
        return [StreamData(r.stream_id, r.basetime, r.pending, r.data["values"], r.received_at) for r in reversed(rows)]
