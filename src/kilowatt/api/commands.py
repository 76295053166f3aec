"""How a command request becomes an HTTP answer: the station's real answer, or a 4xx/5xx saying why not.

| outcome | HTTP |
| --- | --- |
| the station answered | 200 with its status and payload |
| station not connected | 409 |
| too many commands already queued for it | 429 |
| no answer within the timeout | 504 |
| CALLERROR (or an answer its schema forbids) | 502 with the station's code and description |
| the request breaks the OCPP schema for the station's version | 422 |
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from kilowatt.api.errors import CommandError
from kilowatt.services.commands import (
    CommandAnswer,
    CommandFailed,
    CommandTimedOut,
    InvalidCommand,
    StationBusy,
    StationError,
    StationOffline,
)

_STATUS = {StationOffline: 409, StationBusy: 429, CommandTimedOut: 504, StationError: 502, InvalidCommand: 422}


class CommandResponse(BaseModel):
    """The station's answer to a command."""

    command_id: int = Field(description="Id of the stored command record (see /stations/{id}/commands)")
    station_id: str
    operation: str = Field(description="Version-agnostic operation, e.g. reset")
    action: str = Field(description="The OCPP action sent, e.g. Reset")
    status: str | None = Field(description="The 'status' field of the station's answer, when it has one")
    response: dict[str, Any] = Field(description="Exactly what the station answered (OCPP payload)")
    duration_ms: float


def command_response(answer: CommandAnswer) -> CommandResponse:
    return CommandResponse(
        command_id=answer.command_id,
        station_id=answer.station_id,
        operation=answer.operation,
        action=answer.action,
        status=answer.status,
        response=answer.response,
        duration_ms=answer.duration_ms,
    )


def install_command_error_handler(api: FastAPI) -> None:
    """A failed command answers the status of the table above with a :class:`CommandError`."""

    @api.exception_handler(CommandFailed)
    async def _command_failed(request: Request, exc: CommandFailed) -> JSONResponse:
        body = CommandError(detail=str(exc), command_id=exc.command_id)
        if isinstance(exc, StationError):
            body.error_code, body.error_description, body.error_details = exc.code, exc.description, exc.details
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 502)
        return JSONResponse(body.model_dump(exclude_none=True), status_code=status)
