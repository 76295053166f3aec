"""Hypothesis strategies for OCPP-J frames, generated from the official JSON schemas.

``payloads(schema)`` draws schema-valid payloads (hypothesis-jsonschema does not run on current
hypothesis, and OCPP's schemas use a small subset of JSON Schema: objects, arrays, strings with
maxLength/enum/date-time, integers, numbers, booleans, local ``$ref``s). ``hostile_frames`` then
breaks them the ways a faulty or malicious charger does: a hostile value at a random place, a
missing or unknown field, a wrong frame shape, a truncated or non-JSON text.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

Schema = dict[str, Any]

# Values that broke Kilowatt or break databases and parsers, by the type they stand in for, so
# that most of them pass the schema and reach the services and the database: NUL, numbers beyond
# 32/64 bits, integral and non-integral floats where integers are due, years that overflow,
# unicode that is not Latin-1, huge strings.
HOSTILE_STRINGS: list[str] = [
    "\u0000",
    "EVIL\u0000",
    "a\u0000b",
    "",
    " ",
    "😀",
    "\u202eevil",
    "ä" * 20,
    "x" * 20_000,
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-01:00",
    "0001-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2026-13-45T99:99:99Z",
]
HOSTILE_NUMBERS: list[Any] = [2**31, 2**31 - 1, -(2**31) - 1, 2**63, 2**63 - 1, 2**64, -(2**63), 10**30, 1e300, -1e300, 1.5, 7.0, -0.0, -1]
# Anything else, anywhere: wrong types and deep nesting.
HOSTILE_VALUES: list[Any] = [
    *HOSTILE_STRINGS[:3],
    *HOSTILE_NUMBERS[:4],
    True,
    None,
    [],
    {},
    [[[[[[[[[[[]]]]]]]]]]],
    {"a": {"b": {"c": {"d": {"e": {}}}}}},
]


def payloads(schema: Schema, root: Schema | None = None) -> st.SearchStrategy[Any]:
    """Schema-valid values of ``schema`` (``root`` resolves ``#/definitions/...``)."""
    root = root or schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return payloads(root["definitions"][ref.rsplit("/", 1)[1]], root)
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {name: payloads(sub, root) for name, sub in properties.items() if name in required},
            optional={name: payloads(sub, root) for name, sub in properties.items() if name not in required},
        )
    if kind == "array":
        low = schema.get("minItems", 0)
        high = min(schema.get("maxItems", low + 3), low + 3)
        return st.lists(payloads(schema.get("items", {}), root), min_size=low, max_size=high)
    if kind == "string":
        if schema.get("format") == "date-time":
            return timestamps()
        return st.text(max_size=schema.get("maxLength", 64))
    if kind == "integer":
        low, high = schema.get("minimum", -(2**31)), schema.get("maximum", 2**31 - 1)
        return st.one_of(st.integers(max(low, 0), min(high, 10)), st.integers(low, high))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False, width=32)
    if kind == "boolean":
        return st.booleans()
    return st.none()


def timestamps() -> st.SearchStrategy[str]:
    """RFC 3339 times as chargers write them: now-ish mostly, any offset, sometimes odd spellings."""
    moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2099, 1, 1))
    offsets = st.sampled_from([timedelta(0), timedelta(hours=1), timedelta(hours=-5), timedelta(hours=14)])
    return st.builds(lambda moment, offset: moment.replace(tzinfo=timezone(offset)).isoformat(), moments, offsets)


@st.composite
def hostile(draw: st.DrawFn, payload: Any) -> Any:
    """``payload`` with one thing broken: mostly a value replaced by a hostile one of its own type
    (which gets past the schema), else by anything, or a field dropped or added."""
    places = list(_places(payload))
    if not places:
        return draw(st.sampled_from(HOSTILE_VALUES))
    container, key = draw(st.sampled_from(places))
    how = draw(st.sampled_from(["same type"] * 6 + ["any", "drop", "add"]))
    if how == "drop":
        del container[key]
    elif how == "add" and isinstance(container, dict):
        container[draw(st.sampled_from(["unknownField", "\u0000", "😀", ""]))] = draw(st.sampled_from(HOSTILE_VALUES))
    elif how == "same type" and isinstance(container[key], str):
        container[key] = draw(st.sampled_from(HOSTILE_STRINGS))
    elif how == "same type" and isinstance(container[key], int | float) and not isinstance(container[key], bool):
        container[key] = draw(st.sampled_from(HOSTILE_NUMBERS))
    else:
        container[key] = draw(st.sampled_from(HOSTILE_VALUES))
    return payload


def _places(value: Any) -> Any:
    """Every (container, key) in ``value``, leaves and containers alike."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield value, key
            yield from _places(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield value, index
            yield from _places(item)


def message_ids() -> st.SearchStrategy[str]:
    return st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=36)


@st.composite
def calls(draw: st.DrawFn, schemas: dict[str, Schema]) -> tuple[str, str, bool]:
    """``(message_id, frame text, is_hostile)``: a CALL of one of ``schemas``' actions, valid or
    with one hostile change to its payload."""
    action = draw(st.sampled_from(sorted(schemas)))
    payload = draw(payloads(schemas[action]))
    is_hostile = draw(st.booleans())
    if is_hostile:
        payload = draw(hostile(payload))
    message_id = draw(message_ids())
    return message_id, json.dumps([2, message_id, action, payload]), is_hostile


@st.composite
def broken_frames(draw: st.DrawFn, schemas: dict[str, Schema]) -> str:
    """Frames that are not well-formed OCPP-J: truncated, wrong shapes, wrong types, not JSON."""
    message_id, text, _ = draw(calls(schemas))
    action = draw(st.sampled_from(sorted(schemas)))
    return draw(
        st.one_of(
            st.just(text[: draw(st.integers(0, max(len(text) - 1, 0)))]),  # truncated
            st.sampled_from(
                [
                    json.dumps([2, message_id, action]),
                    json.dumps([2, message_id, action, {}, {}]),
                    json.dumps([2, message_id, action, []]),
                    json.dumps([2, message_id, action, None]),
                    json.dumps([2, message_id, 7, {}]),
                    json.dumps([2, message_id, action.lower(), {}]),
                    json.dumps([2, message_id, "Reset", {"type": "Hard"}]),  # a CSMS-only action
                    json.dumps([2, message_id, "NoSuchAction", {}]),
                    json.dumps([2, 17, action, {}]),
                    json.dumps([2, "", action, {}]),
                    json.dumps([2, "x" * 37, action, {}]),
                    json.dumps([2.0, message_id, action, {}]),
                    json.dumps(["2", message_id, action, {}]),
                    json.dumps([5, message_id, action, {}]),
                    json.dumps([3, message_id, {}]),  # an answer to nothing
                    json.dumps([4, message_id, "GenericError", "", {}]),
                    json.dumps([4, message_id]),
                    json.dumps([]),
                    json.dumps({}),
                    json.dumps("a string"),
                    "null",
                    "[2, \"a\", \"Heartbeat\", {}] trailing",
                    "[" * 5000 + "]" * 5000,
                ]
            ),
            st.text(max_size=200),
        )
    )
