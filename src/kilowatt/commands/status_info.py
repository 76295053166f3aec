"""The answer most OCPP 2.1 operations give: a status word and, optionally, why (statusInfo)."""

from __future__ import annotations

from dataclasses import dataclass

from kilowatt.commands.model import Result


@dataclass(slots=True, frozen=True)
class StatusInfo:
    """Why a station answered as it did: a reason code of its own and free text (2.0.1/2.1 StatusInfoType)."""

    reason_code: str
    additional_info: str | None = None


@dataclass(slots=True, frozen=True)
class StatusInfoResult(Result):
    """The answer of an operation whose answer is a status and its reason."""

    status: str
    status_info: StatusInfo | None = None
