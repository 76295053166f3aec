"""Charger timestamps: RFC 3339 text as an aware UTC datetime, within plausible years.

Shared by every version's edge: 1.6 and 2.0.1 send the same date-time format.
"""

from __future__ import annotations

from datetime import datetime, timezone

from kilowatt.rpc.errors import ErrorKind, OcppError

# A charger whose clock was never set reports 1970 (the epoch): that is a known quirk and is kept.
# Anything before it, or from 2100 on, is a broken clock or a hostile value; it is refused rather
# than stored, since it would sort every list and energy total wrongly (and years 1 and 9999
# overflow when converted to UTC).
EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)


def parse_time(value: str, field: str = "timestamp") -> datetime:
    """A schema-checked date-time (RFC 3339, with offset) as an aware UTC datetime.

    RFC 3339 allows a lower-case ``t``/``z`` and a leap second ``:60``, which the schema accepts
    and Python's parser does not: those are normalised (a leap second becomes :59.999999) rather
    than answered with InternalError on every retry. A time outside 1970–2099 (UTC) is
    PropertyConstraintViolation naming ``field``.
    """
    text = value.upper()
    if text[17:19] == "60":
        text = text[:17] + "59.999999" + text[19:].lstrip("0123456789.")
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:  # the schema's date-time format requires an offset; be sure
            raise ValueError("no UTC offset")
        moment = parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise OcppError(ErrorKind.PROPERTY_CONSTRAINT, f"unreadable date-time {value!r}", {"field": field}) from None
    if not EARLIEST <= moment < LATEST:
        raise OcppError(
            ErrorKind.PROPERTY_CONSTRAINT,
            f"{field} {value!r} is outside {EARLIEST.year}–{LATEST.year - 1}: the station's clock is wrong",
            {"field": field},
        )
    return moment
