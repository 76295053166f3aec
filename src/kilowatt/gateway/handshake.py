"""Reading the opening handshake: station id from the path, offered subprotocols, Basic credentials."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from websockets.datastructures import Headers

from kilowatt.services.stations import valid_station_id

PATH_PREFIX = "/ocpp/"


def station_id_from_path(path: str) -> str | None:
    """``/ocpp/{station_id}`` -> station id; None if the path is not of that shape."""
    path = path.split("?", 1)[0]
    if not path.startswith(PATH_PREFIX):
        return None
    station_id = unquote(path[len(PATH_PREFIX) :].rstrip("/"))
    return station_id if valid_station_id(station_id) else None


def offered_subprotocols(headers: Headers) -> list[str]:
    return [p.strip() for value in headers.get_all("Sec-WebSocket-Protocol") for p in value.split(",") if p.strip()]


def basic_credentials(headers: Headers) -> tuple[str, str] | None:
    """The (user, password) of an ``Authorization: Basic`` header, or None."""
    value = headers.get("Authorization")
    if not value:
        return None
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None
