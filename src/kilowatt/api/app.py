"""FastAPI application factory: routes under ``/api/v1``, OpenAPI at ``/docs``, health at ``/health``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import kilowatt
from kilowatt.services.common import Conflict, Invalid, NotFound

if TYPE_CHECKING:
    from kilowatt.app import Application

DESCRIPTION = """
Kilowatt is a charging station management system (CSMS). Stations connect over OCPP-J at
`ws://HOST:OCPP_PORT/ocpp/{station_id}`; operators use this API.

Authentication: `Authorization: Bearer <token>`, where the token is `KILOWATT_ADMIN_TOKEN` or an API key
(`/api/v1/api-keys`). Roles: viewer reads; operator also sends commands and manages id tokens; admin
also manages stations and API keys. Without `KILOWATT_ADMIN_TOKEN` configured the API is read-only and
API keys are not consulted. Every write is recorded in `/api/v1/audit-log`. Lists are paginated with `limit` (at most 500) and `offset` and return
`{"items": [...], "total": N, "limit": L, "offset": O}`. Errors are JSON `{"detail": "..."}` with a
4xx status that says what was wrong.
"""


def create_api(application: Application) -> FastAPI:
    from kilowatt.api.audit import AuditMiddleware
    from kilowatt.api.commands import install_error_handlers
    from kilowatt.api.routes import (
        api_keys,
        audit_log,
        charging,
        commands,
        firmware,
        health,
        id_tokens,
        local_list,
        reservations,
        stations,
        transactions,
    )

    api = FastAPI(
        title="Kilowatt CSMS",
        version=kilowatt.__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    api.state.application = application
    api.state.settings = application.settings
    api.state.services = application.services

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
        errors = [{k: v for k, v in error.items() if k not in ("input", "ctx", "url")} for error in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    @api.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    api.include_router(health.router)
    install_error_handlers(api)
    for module in (stations, id_tokens, transactions, commands):
        api.include_router(module.router, prefix="/api/v1")
    api.include_router(local_list.router, prefix="/api/v1")
    api.include_router(reservations.router, prefix="/api/v1")
    api.include_router(charging.router, prefix="/api/v1")
    api.include_router(firmware.router, prefix="/api/v1")
    api.include_router(api_keys.router, prefix="/api/v1")
    api.include_router(audit_log.router, prefix="/api/v1")
    api.add_middleware(AuditMiddleware)
    return api
