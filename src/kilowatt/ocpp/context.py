"""What a version adapter knows about the connection it serves."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class StationContext:
    """Per-connection state shared by the gateway and the version adapter.

    ``registration_status`` starts as stored at the handshake and follows each BootNotification,
    so messages from a station that is not Accepted can be refused without a database read.
    """

    station_id: str
    ocpp_version: str
    registration_status: str
