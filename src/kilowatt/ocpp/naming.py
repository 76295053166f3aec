"""snake_case <-> camelCase for OCPP payloads, so the API speaks snake_case and the wire camelCase."""

from __future__ import annotations

import re
from typing import Any

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def snake(name: str) -> str:
    return _CAMEL_BOUNDARY.sub("_", name).lower()


def camelize(value: Any) -> Any:
    """Recursively rename dict keys to camelCase (values untouched)."""
    if isinstance(value, dict):
        return {camel(k): camelize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [camelize(v) for v in value]
    return value


def snakeize(value: Any) -> Any:
    """Recursively rename dict keys to snake_case (values untouched)."""
    if isinstance(value, dict):
        return {snake(k): snakeize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [snakeize(v) for v in value]
    return value
