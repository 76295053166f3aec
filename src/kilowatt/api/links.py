"""URLs the API hands out, built so that no id can make a header fail."""

from __future__ import annotations

from urllib.parse import quote


def location(collection: str, key: str | int) -> str:
    """The ``Location`` of a resource created in ``collection``: its key percent-encoded, so the header
    is ASCII whatever the key holds (a header value must be Latin-1, and an emoji is not)."""
    return f"{collection}/{quote(str(key), safe='')}"
