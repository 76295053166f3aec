"""Kilowatt: a charging station management system (CSMS) speaking OCPP-J."""

__version__ = "0.1.0"
