"""Compiled JSON-schema validators for one OCPP version's messages.

The official schemas ship in the ``ocpp`` package. Each is compiled once into Python code by
``fastjsonschema`` the first time its action is seen — interpreting a schema per message would
dominate the cost of a frame on the hot path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

import fastjsonschema
import orjson

from kilowatt.rpc.bounds import IntegerBounds, bound_integers, normalise
from kilowatt.rpc.errors import ErrorKind, OcppError

Validator = Callable[[Any], Any]

# fastjsonschema reports the schema keyword that failed; map it onto the OCPP error meaning.
_RULE_KIND: dict[str, ErrorKind] = {
    "type": ErrorKind.TYPE_CONSTRAINT,
    "required": ErrorKind.OCCURRENCE_CONSTRAINT,
    "minItems": ErrorKind.OCCURRENCE_CONSTRAINT,
    "maxItems": ErrorKind.OCCURRENCE_CONSTRAINT,
    "additionalProperties": ErrorKind.FORMAT,
}


def _kind_for(rule: str | None) -> ErrorKind:
    # maxLength, minimum, maximum, enum, format, pattern, multipleOf ... : a value out of bounds.
    return _RULE_KIND.get(rule or "", ErrorKind.PROPERTY_CONSTRAINT)


class SchemaSet:
    """Validators for the requests and responses of one protocol version, compiled on first use."""

    def __init__(
        self,
        package: str,
        folder: str,
        request_file: str,
        response_file: str,
        integer_bounds: IntegerBounds | None = None,
        request_files: Mapping[str, str] | None = None,
    ):
        """``request_file``/``response_file`` are format strings taking ``action``;
        ``integer_bounds`` are written into every schema (see :mod:`kilowatt.rpc.bounds`);
        ``request_files`` names the request schema of an action that breaks the pattern (2.1's
        SEND messages have no ``Request`` suffix)."""
        self._root = resources.files(package).joinpath(folder)
        self._request_file = request_file
        self._response_file = response_file
        self._integer_bounds = integer_bounds or IntegerBounds()
        self._request_files = dict(request_files or {})
        self._cache: dict[str, Validator | None] = {}

    def _validator(self, filename: str) -> Validator | None:
        try:
            return self._cache[filename]
        except KeyError:
            pass
        path = self._root.joinpath(filename)
        validator = None
        if path.is_file():
            validator = self._compile(orjson.loads(path.read_bytes()))
        self._cache[filename] = validator
        return validator

    def _compile(self, schema: dict[str, Any]) -> Validator:
        schema.pop("$id", None)  # some schemas carry urn: ids fastjsonschema would try to resolve
        integers = bound_integers(schema, self._integer_bounds)
        check = fastjsonschema.compile(schema)
        if not integers or "draft-04" in schema.get("$schema", ""):
            return check  # draft 4 refuses 1.0 as an integer: nothing to normalise

        def check_and_normalise(payload: Any) -> Any:
            check(payload)
            return normalise(payload, integers)

        return check_and_normalise

    def validate_request(self, action: str, payload: dict[str, Any]) -> None:
        filename = self._request_files.get(action) or self._request_file.format(action=action)
        self._validate(filename, action, payload)

    def validate_response(self, action: str, payload: dict[str, Any]) -> None:
        self._validate(self._response_file.format(action=action), action, payload)

    def _validate(self, filename: str, action: str, payload: dict[str, Any]) -> None:
        validator = self._validator(filename)
        if validator is None:
            raise OcppError(ErrorKind.NOT_IMPLEMENTED, f"no schema for {action}")
        try:
            validator(payload)
        except fastjsonschema.JsonSchemaValueException as exc:
            field = ".".join(str(p) for p in (exc.path or [])[1:]) or None
            details = {"field": field} if field else {}
            raise OcppError(_kind_for(exc.rule), f"{action}: {_readable(exc.message)}", details) from None


def _readable(message: str) -> str:
    """fastjsonschema names the root ``data``; say ``payload`` and drop the prefix from field paths."""
    if message.startswith("data."):
        return message[5:]
    if message.startswith("data "):
        return "payload " + message[5:]
    return message
