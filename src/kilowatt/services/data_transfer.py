"""DataTransfer: vendor-specific messages, stored, and answered by a hook registered per vendorId."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import insert

from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.models import DataTransferRecord

_INSERT_RECORD = insert(DataTransferRecord.__table__)


@dataclass(slots=True, frozen=True)
class DataTransferAnswer:
    status: str  # Accepted | Rejected | UnknownMessageId | UnknownVendorId
    data: str | None = None


# A hook gets (station_id, message_id, data) and decides the answer.
VendorHook = Callable[[str, str | None, str | None], Awaitable[DataTransferAnswer]]


async def _accept(station_id: str, message_id: str | None, data: str | None) -> DataTransferAnswer:
    return DataTransferAnswer("Accepted")


class DataTransferService:
    def __init__(self, writes: WriteBatcher, accepted_vendors: Iterable[str] = ()):
        """``accepted_vendors`` are vendorIds whose messages are stored and answered Accepted."""
        self._writes = writes
        self._hooks: dict[str, VendorHook] = {vendor: _accept for vendor in accepted_vendors}

    def register(self, vendor_id: str, hook: VendorHook) -> None:
        """Handle a vendor's messages with ``hook`` (replaces any earlier hook for it)."""
        self._hooks[vendor_id] = hook

    async def inbound(self, station_id: str, vendor_id: str, message_id: str | None, data: str | None) -> DataTransferAnswer:
        """Answer a station's DataTransfer; stored with the answer before the answer is returned."""
        hook = self._hooks.get(vendor_id)
        answer = DataTransferAnswer("UnknownVendorId") if hook is None else await hook(station_id, message_id, data)
        await self.record(station_id, "inbound", vendor_id, message_id, data, answer)
        return answer

    async def record(
        self, station_id: str, direction: str, vendor_id: str, message_id: str | None, data: str | None, answer: DataTransferAnswer
    ) -> None:
        record = {
            "station_id": station_id,
            "direction": direction,
            "vendor_id": vendor_id,
            "message_id": message_id,
            "data": data,
            "status": answer.status,
            "response_data": answer.data,
        }
        await self._writes.run(lambda connection: connection.execute(_INSERT_RECORD, record))
