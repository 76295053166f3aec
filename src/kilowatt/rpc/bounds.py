"""Bounds for the integers of OCPP messages, written into the official schemas before compiling.

The official schemas say ``"type": "integer"`` and nothing more, so ``connectorId: 9.2e18`` or
``requestId: 1e300`` is schema-valid — and then breaks the database (a 64-bit column overflows, a
REAL lands where an INTEGER is read back). OCPP 2.0.1 defines its integer as 32-bit signed, and
every 1.6 implementation we know of treats it so; a few fields get tighter (plausibility) or wider
(energy registers) bounds, per version, in the dialect. An out-of-range value then fails the
schema like any other bound: the sender gets PropertyConstraintViolation naming the field.

Schemas of draft 6 and later count an integral float (``1.0``, ``1e3``) as an integer. Those are
normalised to ``int`` after validation, so services and the database only ever see ``int`` where
the schema says integer (asyncpg refuses a float for an integer column).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

INT32 = (-(2**31), 2**31 - 1)

# What normalise() walks: a dict of property name (or "*" for the items of an array) to a subtree;
# True marks an integer.
IntegerTree = dict[str, Any]


@dataclass(frozen=True)
class IntegerBounds:
    """``default`` applies to every integer; ``fields`` overrides it by property name."""

    default: tuple[int, int] = INT32
    fields: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def of(self, name: str | None) -> tuple[int, int]:
        return self.fields.get(name, self.default) if name is not None else self.default


def bound_integers(schema: dict[str, Any], bounds: IntegerBounds) -> IntegerTree:
    """Add ``minimum``/``maximum`` to every integer of ``schema`` (in place; a bound the schema
    already has is kept where it is tighter) and return where the integers are."""
    definitions = schema.get("definitions", {}) | schema.get("$defs", {})
    return _walk(schema, None, bounds, definitions, frozenset()) or {}


def _walk(node: Any, name: str | None, bounds: IntegerBounds, definitions: dict[str, Any], seen: frozenset[str]) -> Any:
    if not isinstance(node, dict):
        return None
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(("#/definitions/", "#/$defs/")):
        target = ref.rsplit("/", 1)[1]
        if target in seen or target not in definitions:
            return None
        return _walk(definitions[target], name, bounds, definitions, seen | {target})
    types = node.get("type")
    if types == "integer" or (isinstance(types, list) and "integer" in types):
        low, high = bounds.of(name)
        node["minimum"] = max(node.get("minimum", low), low)
        node["maximum"] = min(node.get("maximum", high), high)
        return True
    tree: IntegerTree = {}
    for key, sub in node.get("properties", {}).items():
        found = _walk(sub, key, bounds, definitions, seen)
        if found:
            tree[key] = found
    items = node.get("items")
    if isinstance(items, dict):
        found = _walk(items, name, bounds, definitions, seen)
        if found:
            tree["*"] = found
    return tree or None


def normalise(value: Any, tree: IntegerTree | bool) -> Any:
    """``value`` with every integral float at an integer position of ``tree`` made an ``int``.

    Runs after validation, so a float there is integral and within its bounds."""
    if tree is True:
        return int(value) if isinstance(value, float) else value
    if isinstance(value, dict):
        for key, sub in tree.items():  # type: ignore[union-attr]
            if key in value:
                value[key] = normalise(value[key], sub)
    elif isinstance(value, list) and "*" in tree:  # type: ignore[operator]
        sub = tree["*"]  # type: ignore[index]
        for index, item in enumerate(value):
            value[index] = normalise(item, sub)
    return value
