"""OCPP 2.1: 2.0.1 plus what 2.1 adds; reuses ocpp/v201 wherever the messages are the same."""

from kilowatt.ocpp.v21.dialect import DIALECT, SUBPROTOCOL

__all__ = ["DIALECT", "SUBPROTOCOL"]
