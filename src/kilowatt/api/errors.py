"""Every error answer of the API: one body shape, the handlers that produce it, and its OpenAPI entries.

An error is ``{"detail": ...}``: a sentence, or — when the request breaks the schema — a list naming
each bad field. Command routes add what the station did (``command_id``, its CALLERROR code).
:func:`error_responses` is how a route documents the errors it can give, so /openapi.json shows the
body each status really has.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from kilowatt.services.common import Conflict, Invalid, NotFound


class ValidationIssue(BaseModel):
    """One field a request got wrong. The submitted value is never echoed (it may be a password)."""

    type: str = Field(examples=["string_too_long"])
    loc: list[str | int] = Field(description="Where: body, path, query or header, then the field", examples=[["body", "id"]])
    msg: str = Field(examples=["String should have at most 48 characters"])


class ErrorOut(BaseModel):
    """Every 4xx answer."""

    detail: str | list[ValidationIssue] = Field(
        description="What was wrong: a sentence, or for a request that breaks the schema (422) one entry per bad field",
        examples=["station 'CP-1' not found"],
    )


class CommandError(ErrorOut):
    """A command the station did not carry out: why, and the stored command record when there is one."""

    command_id: int | None = Field(None, description="The stored command record (see /stations/{id}/commands)")
    error_code: str | None = Field(None, description="The station's CALLERROR code (502 only)")
    error_description: str | None = None
    error_details: dict[str, Any] | None = None


_MEANINGS = {
    400: "The body could not be read as JSON (e.g. it is not UTF-8)",
    401: "Missing, wrong or revoked bearer token",
    403: "Refused: no admin token is configured (writes), or the caller's role is not enough",
    404: "No such resource",
    409: "Conflicts with what is stored (e.g. the id exists already)",
    413: "Request body over 1 MiB",
    422: "Invalid request: `detail` lists each bad field, or says which rule the request breaks",
}
_COMMAND_MEANINGS = {
    400: "The body could not be read as JSON (e.g. it is not UTF-8)",
    409: "The station is not connected, or the request conflicts with what is stored",
    422: "Invalid request: `detail` lists each bad field, or says why the station's OCPP version cannot take it",
    429: "Too many commands queued for this station",
    502: "The station answered with a CALLERROR (or an answer its schema forbids)",
    503: "The station's node cannot be reached: the bus between nodes (Redis) is down; nothing was sent",
    504: "The station did not answer in time",
}
COMMAND_STATUSES = (409, 422, 429, 502, 503, 504)
_ALWAYS = (401, 422)  # every /api/v1 route checks the token and validates its parameters


def error_responses(*codes: int, command: bool = False) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the errors a route can give: 401 and 422 always, ``codes`` besides; with
    ``command`` also the statuses of a command to a station, whose body is a :class:`CommandError`.
    A write (413: its body is read whatever it is) can also get 400 for a body that is not JSON."""
    statuses = {*_ALWAYS, *codes, *(COMMAND_STATUSES if command else ())}
    if 413 in statuses:
        statuses.add(400)
    entries: dict[int | str, dict[str, Any]] = {}
    for code in sorted(statuses):
        if command and code in _COMMAND_MEANINGS:
            entries[code] = {"model": CommandError, "description": _COMMAND_MEANINGS[code]}
        else:
            entries[code] = {"model": ErrorOut, "description": _MEANINGS[code]}
    return entries


def install_error_handlers(api: FastAPI) -> None:
    """Service errors and HTTP errors become ``{"detail": ...}`` with their status."""

    @api.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @api.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=409)

    @api.exception_handler(Invalid)
    async def _invalid(request: Request, exc: Invalid) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @api.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI echoes each bad value back as "input"; for a password that would leak it into
        # responses and logs. The location and message say enough.
        errors = [{k: v for k, v in error.items() if k in ("type", "loc", "msg")} for error in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers or None)


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path. Starlette's own 405 names only the first route
    that matched the path, and FastAPI makes one route per method."""
    allowed = []
    for method in _METHODS:
        # A fresh scope: the request's own carries the route already chosen, which FastAPI's routes honour.
        scope = {"type": "http", "path": request.url.path, "root_path": "", "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return allowed
