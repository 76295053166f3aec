"""OCPP 2.1 for a simulated station: the 2.0.1 adapter on 2.1's dialect.

Every message the simulator sends or answers kept its 2.0.1 shape in 2.1 (2.1 added optional fields
and new messages), so a 2.1 station is a 2.0.1 station whose frames are checked against 2.1's
schemas and which offers the ``ocpp2.1`` subprotocol. What 2.1 adds and the simulator does not do
(tariffs, DER control, battery swap, ...) is answered NotSupported, as by a charger without it.
"""

from __future__ import annotations

from kilowatt.ocpp.v21.dialect import DIALECT, SUBPROTOCOL
from kilowatt.simulator.v201 import V201Adapter


class V21Adapter(V201Adapter):
    """A station speaking OCPP 2.1."""

    subprotocol = SUBPROTOCOL
    dialect = DIALECT
