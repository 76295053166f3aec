"""The typed commands as OCPP 2.1 CALLs: 2.0.1's encoders plus the operations 2.1 adds."""

from __future__ import annotations

from kilowatt.ocpp.v201.codec import V201Commands


class V21Commands(V201Commands):
    """The :class:`~kilowatt.ocpp.execute.CommandCodec` of OCPP 2.1."""
