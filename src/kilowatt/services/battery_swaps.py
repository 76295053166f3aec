"""Battery swap stations (OCPP 2.1 block BS): the batteries a driver put in or took out.

A swap is authorised (RequestBatterySwap from the CSMS, or locally by the station) and each
battery movement reported by BatterySwap, stored as reported. BatterySwap has no id of its own (its
request id is shared by the BatteryIn and BatteryOut of one swap) and no timestamp, so a message
sent again after a lost CALLRESULT is recognised by its content (``storage/repeats.py``): event
type, request id, id token and every battery (serial number, SoC, SoH, ...). The BatteryIn and
BatteryOut of a swap differ by event type and batteries; another swap has another request id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kilowatt.storage.database import SessionFactory
from kilowatt.storage.energy_models import BatterySwap
from kilowatt.storage.repeats import insert_ignoring_repeats, repeat_key

MAX_SWAPS = 500


@dataclass(slots=True, frozen=True)
class Battery:
    evse_id: int
    serial_number: str
    soc_pct: float
    soh_pct: float
    production_date: datetime | None = None
    vendor_info: str | None = None


@dataclass(slots=True, frozen=True)
class BatterySwapRecord:
    id: int
    station_id: str
    event_type: str  # BatteryIn | BatteryOut | BatteryOutTimeout
    request_id: int
    id_token: str
    id_token_type: str
    batteries: list[dict[str, Any]]
    received_at: datetime


class BatterySwapService:
    def __init__(self, sessions: SessionFactory):
        self._sessions = sessions

    async def record(
        self, station_id: str, event_type: str, request_id: int, id_token: str, id_token_type: str, batteries: list[Battery]
    ) -> bool:
        """Store one BatterySwap; False when it was a repeat (stored before, nothing stored now)."""
        rows = [
            {
                "evse_id": b.evse_id,
                "serial_number": b.serial_number,
                "soc_pct": b.soc_pct,
                "soh_pct": b.soh_pct,
                "production_date": b.production_date.isoformat() if b.production_date else None,
                "vendor_info": b.vendor_info,
            }
            for b in batteries
        ]
        key = repeat_key(station_id, event_type, request_id, id_token, id_token_type, rows)
        async with self._sessions.begin() as session:
            result = await session.execute(
                insert_ignoring_repeats(BatterySwap.__table__).values(
                    station_id=station_id,
                    event_type=event_type,
                    request_id=request_id,
                    id_token=id_token,
                    id_token_type=id_token_type,
                    batteries={"batteries": rows},
                    repeat_key=key,
                )
            )
        return bool(result.rowcount)

    async def swaps(self, station_id: str) -> list[BatterySwapRecord]:
        query = select(BatterySwap).where(BatterySwap.station_id == station_id).order_by(BatterySwap.id.desc()).limit(MAX_SWAPS)
        async with self._sessions() as session:
            rows = list((await session.execute(query)).scalars())
        return [
            BatterySwapRecord(
                r.id,
                r.station_id,
                r.event_type,
                r.request_id,
                r.id_token,
                r.id_token_type,
                r.batteries["batteries"],
                r.received_at,
            )
            for r in reversed(rows)
        ]
