"""A charger's configuration keys: typed string values, read-only keys, and keys that act.

OCPP 1.6 configuration is a flat list of string keys (2.0.1's device model is richer but answers
the same three questions: does the key exist, may it be written, is the value valid). Definitions
are shared by every station of a protocol version; a station stores only the values it was told to
change, so a fleet of thousands does not carry thousands of copies of the defaults.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class KeyKind(enum.Enum):
    BOOL = "bool"
    INT = "int"
    CSL = "csl"  # comma-separated list
    STRING = "string"


class ChangeResult(str, enum.Enum):
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"  # read-only, or the value is not valid for the key
    REBOOT_REQUIRED = "RebootRequired"
    NOT_SUPPORTED = "NotSupported"  # no such key


@dataclass(frozen=True, slots=True)
class KeyDefinition:
    """One configuration key. ``default`` may be computed from the owner (e.g. NumberOfConnectors)."""

    name: str
    kind: KeyKind
    default: str | Callable[[Any], str]
    readonly: bool = False
    allowed: frozenset[str] | None = None  # CSL members / string values accepted
    minimum: int | None = 0  # for INT
    apply: Callable[[Any, str], None] | None = None  # makes a change take effect on the owner
    reboot_required: bool = False

    def parse_error(self, value: str) -> str | None:
        """Why ``value`` is not valid for this key, or ``None``."""
        if self.kind is KeyKind.BOOL:
            return None if value.lower() in ("true", "false") else "expected true or false"
        if self.kind is KeyKind.INT:
            try:
                number = int(value)
            except ValueError:
                return "expected an integer"
            if self.minimum is not None and number < self.minimum:
                return f"must be >= {self.minimum}"
            return None
        if self.kind is KeyKind.CSL and self.allowed is not None:
            members = [m.strip() for m in value.split(",") if m.strip()]
            unknown = [m for m in members if m not in self.allowed]
            return f"not supported: {', '.join(unknown)}" if unknown else None
        if self.kind is KeyKind.STRING and self.allowed is not None and value not in self.allowed:
            return "value not supported"
        return None


class ConfigurationStore:
    """The configuration of one station, over shared :class:`KeyDefinition`\\ s."""

    __slots__ = ("_definitions", "_owner", "_values")

    def __init__(self, definitions: Mapping[str, KeyDefinition], owner: Any):
        """``definitions`` is keyed by lower-cased name: CSMSs do not agree on the case of key names."""
        self._definitions = definitions
        self._owner = owner
        self._values: dict[str, str] = {}

    def definition(self, name: str) -> KeyDefinition | None:
        return self._definitions.get(name.lower())

    def value(self, name: str) -> str:
        definition = self._definitions[name.lower()]
        value = self._values.get(definition.name)
        if value is not None:
            return value
        default = definition.default
        return default if isinstance(default, str) else default(self._owner)

    def flag(self, name: str) -> bool:
        return self.value(name).lower() == "true"

    def number(self, name: str) -> int:
        return int(self.value(name))

    def members(self, name: str) -> list[str]:
        return [m.strip() for m in self.value(name).split(",") if m.strip()]

    def read(self, names: Iterable[str] | None = None) -> tuple[list[tuple[KeyDefinition, str]], list[str]]:
        """``(known keys with values, unknown names)``; all keys when ``names`` is empty or ``None``."""
        if not names:
            return [(d, self.value(d.name)) for d in self._definitions.values()], []
        known: list[tuple[KeyDefinition, str]] = []
        unknown: list[str] = []
        for name in names:
            definition = self.definition(name)
            if definition is None:
                unknown.append(name)
            else:
                known.append((definition, self.value(definition.name)))
        return known, unknown

    def change(self, name: str, value: str) -> ChangeResult:
        """Apply a CSMS's change: unknown keys are NotSupported, read-only or invalid ones Rejected."""
        definition = self.definition(name)
        if definition is None:
            return ChangeResult.NOT_SUPPORTED
        if definition.readonly or definition.parse_error(value) is not None:
            return ChangeResult.REJECTED
        if definition.kind is KeyKind.BOOL:
            value = value.lower()
        self._values[definition.name] = value
        if definition.apply is not None:
            definition.apply(self._owner, value)
        return ChangeResult.REBOOT_REQUIRED if definition.reboot_required else ChangeResult.ACCEPTED


def definitions(*keys: KeyDefinition) -> dict[str, KeyDefinition]:
    """Index key definitions by lower-cased name."""
    return {key.name.lower(): key for key in keys}
