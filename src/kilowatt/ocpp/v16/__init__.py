"""OCPP 1.6J: dialect, charger-initiated message handlers, CSMS-initiated command mapping."""

from kilowatt.ocpp.v16.dialect import DIALECT, SUBPROTOCOL

__all__ = ["DIALECT", "SUBPROTOCOL"]
