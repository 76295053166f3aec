"""OCPP 2.0.1: dialect, charger-initiated message handlers, CSMS-initiated command mapping."""

from kilowatt.ocpp.v201.dialect import DIALECT, SUBPROTOCOL

__all__ = ["DIALECT", "SUBPROTOCOL"]
