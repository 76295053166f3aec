"""How a command's answer becomes an HTTP answer: the typed result, or a 4xx/5xx saying why not.

| outcome | HTTP |
| --- | --- |
| the station answered | 200: `status`, the typed `result`, and the station's raw payload as `response` |
| station not connected | 409 |
| too many commands already queued for it | 429 |
| no answer within the timeout | 504 |
| CALLERROR (or an answer its schema forbids) | 502 with the station's code and description |
| the station's OCPP version cannot carry the request (or its schema refuses it) | 422 |
| the bus between nodes (Redis) is unreachable: nothing was sent | 503 |
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kilowatt.api.errors import CommandError
from kilowatt.commands import Result
from kilowatt.services.command_service import (
    BusUnavailable,
    CommandAnswer,
    CommandFailed,
    CommandTimedOut,
    InvalidCommand,
    StationBusy,
    StationError,
    StationOffline,
)

_STATUS = {StationOffline: 409, StationBusy: 429, CommandTimedOut: 504, StationError: 502, InvalidCommand: 422, BusUnavailable: 503}

R = TypeVar("R")


class CommandResponse(BaseModel, Generic[R]):
    """A station's answer to a command: the same shape whatever OCPP version the station speaks."""

    command_id: int = Field(description="Id of the stored command record (see /stations/{id}/commands)")
    station_id: str
    operation: str = Field(description="The operation, e.g. reset")
    action: str = Field(description="The OCPP action sent for the station's version, e.g. Reset")
    status: str | None = Field(description="The station's status word (e.g. Accepted), when its answer has one")
    result: R = Field(description="The typed answer: `status` and the operation's own fields")
    response: dict[str, Any] = Field(description="Exactly what the station answered (its version's OCPP payload), for reference")
    duration_ms: float


def command_fields(answer: CommandAnswer[Any]) -> dict[str, Any]:
    """The fields of a :class:`CommandResponse` for ``answer``; routes that add their own fields start from these."""
    return {
        "command_id": answer.command_id,
        "station_id": answer.station_id,
        "operation": answer.operation,
        "action": answer.action,
        "status": answer.status,
        "result": answer.result,
        "response": answer.response,
        "duration_ms": answer.duration_ms,
    }


def response_model(result: type[Result]) -> type[CommandResponse[Any]]:
    return CommandResponse[result]  # type: ignore[valid-type]


def install_command_error_handler(api: FastAPI) -> None:
    """A failed command answers the status of the table above with a :class:`CommandError`."""

    @api.exception_handler(CommandFailed)
    async def _command_failed(request: Request, exc: CommandFailed) -> JSONResponse:
        body = CommandError(detail=str(exc), command_id=exc.command_id)
        if isinstance(exc, StationError):
            body.error_code, body.error_description, body.error_details = exc.code, exc.description, exc.details
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 502)
        return JSONResponse(body.model_dump(exclude_none=True), status_code=status)
