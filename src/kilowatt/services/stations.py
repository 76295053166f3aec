"""Station registry: identity and credentials, boot data, connection state, connector status."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from kilowatt.bus.base import Bus, Event
from kilowatt.config import UnknownStationPolicy
from kilowatt.jobs.outbox import Outbox
from kilowatt.services.common import Conflict, NotFound, Page, from_row, paginate
from kilowatt.services.passwords import hash_password
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.cluster_models import Node
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.lookup import BatchedLookup
from kilowatt.storage.models import Connector, Station, StationEvent, StatusNotification, utcnow
from kilowatt.storage.repeats import insert_ignoring_repeats, repeat_key
from kilowatt.storage.upsert import upsert

REGISTRATION_STATUSES = ("Accepted", "Pending", "Rejected")
MAX_STATION_ID_LENGTH = 48
# OCPP 2.0.1 identifierString less ':' — the identity is the HTTP Basic user name, which ends at
# the first ':'. The gateway admits and the API accepts the same ids, so every station that can
# connect can be reached through the API, and no id can break a URL or a header.
STATION_ID_PATTERN = r"^[A-Za-z0-9*_=+|@.\-]+$"
_STATION_ID = re.compile(STATION_ID_PATTERN.removeprefix("^").removesuffix("$"))


def valid_station_id(value: str) -> bool:
    """1 to 48 characters of OCPP 2.0.1's identifierString set, without ':'."""
    return len(value) <= MAX_STATION_ID_LENGTH and _STATION_ID.fullmatch(value) is not None


# Batched writes use Core statements on the tables, built once (see storage/batch.py).
_INSERT_STATUS_NOTIFICATION = insert_ignoring_repeats(StatusNotification.__table__)  # storage/repeats.py
_INSERT_STATION_EVENT = insert(StationEvent.__table__)
_INSERT_SECURITY_EVENT = insert_ignoring_repeats(StationEvent.__table__)  # storage/repeats.py

# Which station column a station event of a kind keeps current.
_CURRENT_STATUS_COLUMN = {"firmware": "firmware_status", "diagnostics": "diagnostics_status"}


@dataclass(slots=True, frozen=True)
class Admission:
    """What the gateway needs to know at the handshake."""

    station_id: str
    password_hash: str | None
    registration_status: str
    pinned_ocpp_version: str | None = None  # the only version it may connect with, when set


@dataclass(slots=True)
class BootInfo:
    """What a station says about itself when it boots."""

    ocpp_version: str
    vendor: str
    model: str
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    reason: str | None = None  # 2.0.1 BootReasonEnum (PowerUp, FirmwareUpdate, Watchdog, ...); kept as a "boot" event


@dataclass(slots=True)
class ConnectorStatus:
    """A status report; ``status`` is the station's own word, ``connector_status`` and
    ``charging_state`` its version-neutral meaning, which the version's edge works out
    (2.0.1 ConnectorStatusEnum and ChargingStateEnum; see docs/architecture.md)."""

    evse_id: int
    connector_id: int
    status: str
    connector_status: str
    charging_state: str | None = None  # None: not said (2.0.1 reports it with the transaction)
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    timestamp: datetime | None = None


@dataclass(slots=True, frozen=True)
class StationRecord:
    """A registered station as stored: identity, registration, boot data, connection state."""

    id: str
    has_password: bool
    registration_status: str
    ocpp_version: str | None
    pinned_ocpp_version: str | None
    vendor: str | None
    model: str | None
    serial_number: str | None
    charge_box_serial_number: str | None
    firmware_version: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None
    meter_serial_number: str | None
    firmware_status: str | None
    diagnostics_status: str | None
    connected: bool
    node_id: str | None  # the gateway node holding its socket while connected
    last_seen: datetime | None
    last_boot_at: datetime | None
    last_heartbeat_at: datetime | None
    created_at: datetime


@dataclass(slots=True, frozen=True)
class ConnectorState:
    """A connector's current status, as last reported."""

    evse_id: int
    connector_id: int
    status: str | None
    connector_status: str | None
    charging_state: str | None
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    status_at: datetime | None  # the station's timestamp of this status


@dataclass(slots=True, frozen=True)
class StatusNotificationRecord:
    """One entry of a connector's status history."""

    id: int
    evse_id: int
    connector_id: int
    status: str
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    timestamp: datetime | None  # the station's
    received_at: datetime


@dataclass(slots=True, frozen=True)
class StationEventRecord:
    """A firmware/diagnostics/log/security notification."""

    id: int
    kind: str
    status: str
    request_id: int | None
    details: dict[str, Any] | None
    received_at: datetime


@dataclass(slots=True, frozen=True)
class StationView:
    station: StationRecord
    connectors: list[ConnectorState] = field(default_factory=list)


def _station_record(station: Station) -> StationRecord:
    values = {f.name: getattr(station, f.name) for f in fields(StationRecord) if f.name != "has_password"}
    return StationRecord(has_password=station.password_hash is not None, **values)


class StationService:
    def __init__(
        self,
        sessions: SessionFactory,
        writes: WriteBatcher,
        bus: Bus,
        unknown_stations: UnknownStationPolicy,
        outbox: Outbox,
    ):
        self._outbox = outbox  # connector.status is written with the status (alerts act on it)
        self._sessions = sessions
        self._writes = writes
        self._bus = bus
        self._unknown_stations = unknown_stations
        self._admissions: BatchedLookup[str, Admission] = BatchedLookup(self._read_admissions)
        # OCPP version of the stations connected to this node: commands ask for it, and after a
        # boot storm every post-boot GetConfiguration would otherwise read it from the database.
        self._versions: dict[str, str] = {}

    # --- gateway side -------------------------------------------------------------------------

    async def admission(self, station_id: str) -> Admission | None:
        """Look a station up for the handshake; registers unknown ones if the policy allows.

        Concurrent handshakes share one query (a boot storm after a restart is thousands of them).
        """
        admission = await self._admissions.get(station_id)
        if admission is not None:
            return admission
        if self._unknown_stations is UnknownStationPolicy.reject:
            return None
        status = "Accepted" if self._unknown_stations is UnknownStationPolicy.accept else "Pending"
        try:
            await self.create(station_id, registration_status=status)
        except Conflict:  # registered concurrently by another connection attempt
            return await self.admission(station_id)
        return Admission(station_id, None, status)

    async def _read_admissions(self, station_ids: list[str]) -> dict[str, Admission]:
        async with self._sessions() as session:
            rows = await session.execute(
                select(Station.id, Station.password_hash, Station.registration_status, Station.pinned_ocpp_version).where(
                    Station.id.in_(station_ids)
                )
            )
            return {
                row.id: Admission(row.id, row.password_hash, row.registration_status, row.pinned_ocpp_version) for row in rows
            }

    async def connected(self, station_id: str, ocpp_version: str, node_id: str) -> None:
        now = utcnow()
        statement = (
            update(Station)
            .where(Station.id == station_id)
            .values(connected=True, node_id=node_id, ocpp_version=ocpp_version, last_seen=now)
        )
        await self._writes.run(lambda connection: connection.execute(statement))
        self._versions[station_id] = ocpp_version
        await self._bus.publish(Event("station.connected", station_id, {"ocpp_version": ocpp_version, "node_id": node_id}))

    async def disconnected(self, station_id: str, node_id: str) -> None:
        self._versions.pop(station_id, None)
        statement = (
            update(Station)
            .where(Station.id == station_id, Station.node_id == node_id)
            .values(connected=False, node_id=None, last_seen=utcnow())
        )
        await self._writes.run(lambda connection: connection.execute(statement))
        await self._bus.publish(Event("station.disconnected", station_id, {"node_id": node_id}))

    async def ocpp_version(self, station_id: str) -> str | None:
        """The protocol version the station last connected with; None if it never connected."""
        if (version := self._versions.get(station_id)) is not None:
            return version
        async with self._sessions() as session:
            row = (await session.execute(select(Station.ocpp_version).where(Station.id == station_id))).first()
        if row is None:
            raise NotFound(f"station {station_id!r} not found")
        return row.ocpp_version

    async def release_departed_nodes(self) -> int:
        """Mark every station held by a node that has no row in ``nodes`` (it was killed, or was an
        earlier run of a process under another node id) as disconnected; returns how many."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Station)
                .where(Station.node_id.is_not(None), Station.node_id.not_in(select(Node.node_id)))
                .values(connected=False, node_id=None)
            )
        return result.rowcount or 0

    async def reclaim(self, node_id: str, station_ids: Collection[str]) -> int:
        """Mark the stations whose sockets ``node_id`` still holds as connected to it again; returns how many.

        Used when the node reaper let this node's stations go while the node was alive (its
        heartbeats could not reach the database for a while). A station that another node took
        meanwhile (it reconnected there) is left to that node.
        """
        ids = list(station_ids)
        count = 0
        async with self._sessions.begin() as session:
            for start in range(0, len(ids), 1000):
                result = await session.execute(
                    update(Station)
                    .where(Station.id.in_(ids[start : start + 1000]), Station.node_id.is_(None))
                    .values(connected=True, node_id=node_id)
                )
                count += result.rowcount or 0
        return count

    async def reset_node(self, node_id: str) -> None:
        """Mark every station this node held as disconnected (at start after a crash, and at stop)."""
        async with self._sessions.begin() as session:
            await session.execute(update(Station).where(Station.node_id == node_id).values(connected=False, node_id=None))

    async def boot(self, station_id: str, info: BootInfo) -> str:
        """Store the boot data; returns the registration status to answer with."""
        now = utcnow()
        values: dict[str, Any] = {
            "ocpp_version": info.ocpp_version,
            "vendor": info.vendor,
            "model": info.model,
            "serial_number": info.serial_number,
            "charge_box_serial_number": info.charge_box_serial_number,
            "firmware_version": info.firmware_version,
            "iccid": info.iccid,
            "imsi": info.imsi,
            "meter_type": info.meter_type,
            "meter_serial_number": info.meter_serial_number,
            "last_boot_at": now,
            "last_seen": now,
        }

        statement = update(Station).where(Station.id == station_id).values(**values).returning(Station.registration_status)

        def write(connection: Connection) -> str | None:
            status = connection.execute(statement).scalar_one_or_none()
            if status is not None and info.reason is not None:
                connection.execute(
                    _INSERT_STATION_EVENT,
                    {"station_id": station_id, "kind": "boot", "status": info.reason, "request_id": None, "details": None},
                )
            return status

        status = await self._writes.run(write)
        if status is None:
            raise NotFound(f"station {station_id!r} is not registered")
        await self._bus.publish(Event("station.booted", station_id, {"registration_status": status, "reason": info.reason}))
        return status

    async def heartbeat(self, station_id: str) -> None:
        now = utcnow()
        statement = update(Station).where(Station.id == station_id).values(last_heartbeat_at=now, last_seen=now)
        await self._writes.run(lambda connection: connection.execute(statement))

    async def status_notification(self, station_id: str, status: ConnectorStatus) -> None:
        """Keep the connector's current status and append it to the history, in one commit.

        A repeat (same content and timestamp, see storage/repeats.py) stores nothing, leaves the
        current status as it is (a newer status stays) and announces nothing."""
        now = utcnow()
        current = {
            "status": status.status,
            "connector_status": status.connector_status,
            "error_code": status.error_code,
            "info": status.info,
            "vendor_id": status.vendor_id,
            "vendor_error_code": status.vendor_error_code,
            "status_at": status.timestamp or now,
            "updated_at": now,
        }

        if status.connector_status != "Occupied":
            current["charging_state"] = None  # no EV, no charging state
        elif status.charging_state is not None:
            current["charging_state"] = status.charging_state

        events = [
            Event(
                "connector.status",
                station_id,
                {
                    "evse_id": status.evse_id,
                    "connector_id": status.connector_id,
                    "status": status.status,
                    "error_code": status.error_code,
                },
            )
        ]

        reported = {
            "status": status.status,
            "error_code": status.error_code,
            "info": status.info,
            "vendor_id": status.vendor_id,
            "vendor_error_code": status.vendor_error_code,
            "timestamp": status.timestamp,
        }
        # Only a timestamped notification can be told apart from a later identical one.
        repeat = None if status.timestamp is None else repeat_key(station_id, status.evse_id, status.connector_id, *reported.values())

        def write(connection: Connection) -> bool:
            key = {"station_id": station_id, "evse_id": status.evse_id, "connector_id": status.connector_id}
            stored = connection.execute(_INSERT_STATUS_NOTIFICATION, {**key, **reported, "received_at": now, "repeat_key": repeat})
            if repeat is not None and not stored.rowcount:
                return False  # a repeat: its status was set and announced the first time
            upsert(connection, Connector.__table__, {**key, **current}, key)
            Outbox.record(connection, events)
            return True

        if await self._writes.run(write):
            await self._outbox.publish_committed(events)

    async def charging_state(self, station_id: str, evse_id: int, connector_id: int | None, state: str) -> None:
        """Record the charging state a transaction reported (2.0.1) on its EVSE's connector(s)."""
        await self._writes.run(lambda connection: record_charging_state(connection, station_id, evse_id, connector_id, state))

    async def record_event(
        self, station_id: str, kind: str, status: str, request_id: int | None = None, details: dict[str, Any] | None = None
    ) -> bool:
        """Store a firmware/diagnostics/log/... notification; firmware and diagnostics stay current on the station.

        These have no timestamp. One with a ``request_id`` that says what the latest event of its
        kind says (same request, status and details) is the message sent again after a lost
        CALLRESULT: a station reports progress, and the same status twice in a row for one request
        is none; it is neither stored nor announced (a failed update is alerted on once). Without a
        request id (1.6's firmware and diagnostics statuses, boots, certificate requests) a status
        repeated may belong to the next request (two downloads failing alike), so each is stored.
        Security events go to :meth:`security_event`. Returns whether the event was stored.
        """
        return await self._record_event(station_id, kind, status, request_id, details, None)

    async def security_event(self, station_id: str, event_type: str, timestamp: str, tech_info: str | None) -> bool:
        """Store a SecurityEventNotification (1.6 security extension, 2.0.1, 2.1); False for a repeat.

        The event's type, timestamp (as sent) and techInfo make its repeat key: sent again after a
        lost CALLRESULT, it is neither stored nor announced (alerted on) twice; the same type at
        another time is a new event.
        """
        details = {"timestamp": timestamp, "tech_info": tech_info}
        repeat = repeat_key(station_id, "security", event_type, timestamp, tech_info)
        return await self._record_event(station_id, "security", event_type, None, details, repeat)

    async def _record_event(
        self,
        station_id: str,
        kind: str,
        status: str,
        request_id: int | None,
        details: dict[str, Any] | None,
        repeat: bytes | None,
    ) -> bool:
        # Durable (the outbox): alerts act on security events and failed firmware updates.
        announced = [Event(f"station.{kind}", station_id, {"status": status, "request_id": request_id})]
        row = {"station_id": station_id, "kind": kind, "status": status, "request_id": request_id, "details": details}

        def write(connection: Connection) -> list[Event]:
            if request_id is not None and repeat is None:
                # A station sends its CALLs one at a time, so its repeat never races its first message.
                latest = connection.execute(
                    select(StationEvent.status, StationEvent.request_id, StationEvent.details)
                    .where(StationEvent.station_id == station_id, StationEvent.kind == kind)
                    .order_by(StationEvent.id.desc())
                    .limit(1)
                ).first()
                if latest is not None and tuple(latest) == (status, request_id, details):
                    return []  # the same progress again: stored and announced the first time
            if repeat is None:
                connection.execute(_INSERT_STATION_EVENT, row)
            elif not connection.execute(_INSERT_SECURITY_EVENT, {**row, "repeat_key": repeat}).rowcount:
                return []  # a repeat: stored before, announced before
            column = _CURRENT_STATUS_COLUMN.get(kind)
            if column is not None:
                connection.execute(update(Station).where(Station.id == station_id).values({column: status}))
            Outbox.record(connection, announced)
            return announced

        events = await self._writes.run(write)
        await self._outbox.publish_committed(events)
        return bool(events)

    # --- operator side ------------------------------------------------------------------------

    async def create(self, station_id: str, password: str | None = None, registration_status: str = "Accepted") -> StationView:
        station = Station(
            id=station_id,
            password_hash=hash_password(password) if password else None,
            registration_status=registration_status,
            connected=False,
        )
        try:
            async with self._sessions.begin() as session:
                session.add(station)
        except IntegrityError:
            raise Conflict(f"station {station_id!r} already exists") from None
        return StationView(_station_record(station))

    async def get(self, station_id: str) -> StationView:
        async with self._sessions() as session:
            station = await session.get(Station, station_id)
            if station is None:
                raise NotFound(f"station {station_id!r} not found")
            connectors = await self._connectors(session, [station_id])
        return StationView(_station_record(station), connectors.get(station_id, []))

    async def list(self, limit: int = 50, offset: int = 0, connected: bool | None = None) -> Page[StationView]:
        query = select(Station)
        if connected is not None:
            query = query.where(Station.connected == connected)
        async with self._sessions() as session:
            page = await paginate(session, query, Station.id, limit, offset)
            connectors = await self._connectors(session, [s.id for s in page.items])
        return page.map(lambda s: StationView(_station_record(s), connectors.get(s.id, [])))

    async def update(self, station_id: str, **changes: Any) -> StationView:
        """Change ``password`` (None clears it), ``registration_status`` and/or ``pinned_ocpp_version``
        (None unpins; it applies from the station's next connection)."""
        values: dict[str, Any] = {}
        if "password" in changes:
            password = changes["password"]
            values["password_hash"] = hash_password(password) if password else None
        if "registration_status" in changes:
            values["registration_status"] = changes["registration_status"]
        if "pinned_ocpp_version" in changes:
            values["pinned_ocpp_version"] = changes["pinned_ocpp_version"]
        if values:
            async with self._sessions.begin() as session:
                result = await session.execute(update(Station).where(Station.id == station_id).values(**values))
                if result.rowcount == 0:
                    raise NotFound(f"station {station_id!r} not found")
            if "registration_status" in values:
                # The node holding the station's socket applies it to the live connection.
                await self._bus.publish(
                    Event("station.registration", station_id, {"registration_status": values["registration_status"]})
                )
        return await self.get(station_id)

    async def delete(self, station_id: str) -> None:
        async with self._sessions.begin() as session:
            station = await session.get(Station, station_id)
            if station is None:
                raise NotFound(f"station {station_id!r} not found")
            if station.connected:
                raise Conflict(
                    f"station {station_id!r} is connected; set its registration_status to Rejected "
                    "and reset it, or wait until it disconnects, before deleting it"
                )
            await session.delete(station)

    async def status_history(self, station_id: str, limit: int = 50, offset: int = 0) -> Page[StatusNotificationRecord]:
        query = select(StatusNotification).where(StatusNotification.station_id == station_id)
        async with self._sessions() as session:
            page = await paginate(session, query, StatusNotification.id.desc(), limit, offset)
        return page.map(lambda row: from_row(row, StatusNotificationRecord))

    async def events(
        self, station_id: str, kind: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[StationEventRecord]:
        query = select(StationEvent).where(StationEvent.station_id == station_id)
        if kind:
            query = query.where(StationEvent.kind == kind)
        async with self._sessions() as session:
            page = await paginate(session, query, StationEvent.id.desc(), limit, offset)
        return page.map(lambda row: from_row(row, StationEventRecord))

    @staticmethod
    async def _connectors(session: Any, station_ids: list[str]) -> dict[str, list[ConnectorState]]:
        if not station_ids:
            return {}
        rows = (
            await session.execute(
                select(Connector)
                .where(Connector.station_id.in_(station_ids))
                .order_by(Connector.station_id, Connector.evse_id, Connector.connector_id)
            )
        ).scalars()
        grouped: dict[str, list[ConnectorState]] = {}
        for connector in rows:
            grouped.setdefault(connector.station_id, []).append(from_row(connector, ConnectorState))
        return grouped


def record_charging_state(connection: Connection, station_id: str, evse_id: int, connector_id: int | None, state: str) -> None:
    """The charging state a transaction reported, on its EVSE's connector(s), in the caller's
    batched write: the transaction service stores it with the TransactionEvent that says it (one
    commit, not two), as other services record their part in a write of another's."""
    where = [Connector.station_id == station_id, Connector.evse_id == evse_id]
    if connector_id:
        where.append(Connector.connector_id == connector_id)
    connection.execute(update(Connector).where(*where).values(charging_state=state, updated_at=utcnow()))

