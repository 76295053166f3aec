"""Firmware and diagnostics tracking: each request sent, with the status notifications that followed it.

Built only from what other services already keep — the command history (CommandService) and the
station's event history (StationService) — so it owns no table. Each kind of notification
answers one kind of request: a (plain) firmware status an UpdateFirmware, a signed firmware status
a SignedUpdateFirmware, a diagnostics status a GetDiagnostics, a log status a GetLog. A notification
belongs to the request of its kind whose ``requestId`` it carries (signed firmware, logs), else to
the latest request of its kind sent before it. A request counts as sent when the station answered
it (or did not answer in time: it may still have acted) without refusing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kilowatt.services.command_service import CommandLogEntry, CommandService
from kilowatt.services.common import MAX_PAGE_SIZE
from kilowatt.services.stations import StationEventRecord, StationService

# family -> (operations that start the work, event kinds that report on it)
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "firmware": (("update_firmware", "signed_update_firmware"), ("firmware",)),
    "diagnostics": (("get_diagnostics", "get_log"), ("diagnostics", "log")),
}
_SENT_OUTCOMES = ("answered", "timeout")
_ACCEPTING = (None, "Accepted", "AcceptedCanceled")  # UpdateFirmware/GetDiagnostics answers carry no status


@dataclass(slots=True)
class TrackedRequest:
    command: CommandLogEntry
    request_id: int | None
    notifications: list[StationEventRecord] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        return self.command.outcome in _SENT_OUTCOMES and self.command.status in _ACCEPTING

    @property
    def latest_status(self) -> str | None:
        return self.notifications[-1].status if self.notifications else None


@dataclass(slots=True, frozen=True)
class Tracking:
    station_id: str
    family: str
    requests: list[TrackedRequest]  # newest first
    unattributed: list[StationEventRecord]  # notifications no request explains (e.g. before any request), oldest first


class FirmwareService:
    def __init__(self, commands: CommandService, stations: StationService):
        self._commands = commands
        self._stations = stations

    async def firmware(self, station_id: str, limit: int = 50) -> Tracking:
        return await self.track(station_id, "firmware", limit)

    async def diagnostics(self, station_id: str, limit: int = 50) -> Tracking:
        return await self.track(station_id, "diagnostics", limit)

    async def track(self, station_id: str, family: str, limit: int = 50) -> Tracking:
        """The latest ``limit`` requests of ``family`` with their notifications."""
        await self._stations.get(station_id)  # NotFound for an unknown station
        operations, kinds = FAMILIES[family]
        limit = min(limit, MAX_PAGE_SIZE)
        records: list[CommandLogEntry] = []
        for operation in operations:
            records += (await self._commands.list(station_id, limit=limit, operation=operation)).items
        records.sort(key=lambda r: (r.requested_at, r.id))
        records = records[-limit:]
        tracked = [TrackedRequest(r, _request_id(r.request)) for r in records]
        since = records[0].requested_at if records else None
        events: list[StationEventRecord] = []
        for kind in kinds:
            events += await self._events_since(station_id, kind, since)
        events.sort(key=lambda e: (e.received_at, e.id))

        sent = [t for t in tracked if t.sent]
        unattributed = []
        for event in events:
            owner = _owner(event, sent)
            if owner is None:
                unattributed.append(event)
            else:
                owner.notifications.append(event)
        return Tracking(station_id, family, list(reversed(tracked)), unattributed)

    async def _events_since(self, station_id: str, kind: str, since: datetime | None) -> list[StationEventRecord]:
        """Events of ``kind`` received at or after ``since`` (the latest page when there is no request)."""
        found: list[StationEventRecord] = []
        offset = 0
        while True:
            page = await self._stations.events(station_id, kind=kind, limit=MAX_PAGE_SIZE, offset=offset)
            for event in page.items:  # newest first
                if since is not None and event.received_at < since:
                    return found
                found.append(event)
            offset += len(page.items)
            if since is None or not page.items or offset >= page.total:
                return found


def _operation_for(event: StationEventRecord) -> str:
    if event.kind == "firmware":
        return "signed_update_firmware" if (event.details or {}).get("signed") else "update_firmware"
    return "get_log" if event.kind == "log" else "get_diagnostics"


def _owner(event: StationEventRecord, sent: list[TrackedRequest]) -> TrackedRequest | None:
    operation = _operation_for(event)
    sent = [r for r in sent if r.command.operation == operation]
    if event.request_id is not None:
        for request in reversed(sent):
            if request.request_id == event.request_id:
                return request
    before = [r for r in sent if r.command.requested_at <= event.received_at]
    return before[-1] if before else None


def _request_id(request: dict[str, Any] | None) -> int | None:
    if not request:
        return None
    value = request.get("requestId", request.get("request_id"))
    return value if isinstance(value, int) else None
