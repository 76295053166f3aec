"""What every version's command codec is made of: one :class:`Operation` per typed command.

An ``ocpp/<version>/codec.py`` registers ``{command type: Operation(action, encode, decode)}`` in a
module-level dict and serves it through :class:`OperationCodec`. A later version extends an
earlier one's table (``{**v201.OPERATIONS, ...}``) rather than copying it, and a command type
missing from a version's table is refused as :class:`CannotEncode` before anything is sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

from kilowatt.commands import model as m
from kilowatt.ocpp.execute import CannotEncode

C = TypeVar("C", bound=m.Command)
E = TypeVar("E", bound=Enum)


@dataclass(slots=True, frozen=True)
class Operation(Generic[C]):
    """One CSMS-initiated OCPP action: how the typed command becomes its payload and the answer its result."""

    action: str
    encode: Callable[[C], dict[str, Any]]
    decode: Callable[[C, dict[str, Any]], m.Result] | Callable[[dict[str, Any]], m.Result]
    needs_command: bool = False  # decode(command, payload) instead of decode(payload): the result echoes the command


def reverse(mapping: Mapping[E, str]) -> dict[str, E]:
    """An enum map read the other way: the version's spelling -> the domain value."""
    return {spelling: value for value, spelling in mapping.items()}


class OperationCodec:
    """A :class:`~kilowatt.ocpp.execute.CommandCodec` served from a table of operations."""

    version: ClassVar[str]
    operations: ClassVar[Mapping[type[m.Command], Operation[Any]]]

    def encode(self, command: m.Command) -> tuple[str, dict[str, Any]]:
        operation = self._operation(command)
        return operation.action, operation.encode(command)

    def decode(self, command: m.Command, payload: dict[str, Any]) -> m.Result:
        operation = self._operation(command)
        if operation.needs_command:
            return operation.decode(command, payload)  # type: ignore[call-arg,arg-type]
        return operation.decode(payload)  # type: ignore[call-arg]

    def actions(self) -> frozenset[str]:
        """The OCPP actions this codec sends (docs/ocpp-coverage.md is generated from it)."""
        return frozenset(operation.action for operation in self.operations.values())

    def _operation(self, command: m.Command) -> Operation[Any]:
        try:
            return self.operations[type(command)]
        except KeyError:
            raise CannotEncode(f"OCPP {self.version} has no operation {type(command).__name__}") from None
