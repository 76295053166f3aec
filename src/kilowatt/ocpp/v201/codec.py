"""The typed commands as OCPP 2.0.1 CALLs (being written: see the 2.0.1 issue)."""

from __future__ import annotations

from typing import Any

from kilowatt.commands import model as m
from kilowatt.ocpp.execute import CannotEncode


class V201Commands:
    """The :class:`~kilowatt.ocpp.execute.CommandCodec` of OCPP 2.0.1."""

    def encode(self, command: m.Command) -> tuple[str, dict[str, Any]]:
        raise CannotEncode(f"OCPP 2.0.1 has no operation {type(command).__name__}")

    def decode(self, command: m.Command, payload: dict[str, Any]) -> m.Result:
        raise CannotEncode(f"OCPP 2.0.1 has no operation {type(command).__name__}")

    def actions(self) -> frozenset[str]:
        """The OCPP actions this codec sends (docs/ocpp-coverage.md is generated from it)."""
        return frozenset()
