"""FastAPI application factory: routes under ``/api/v1``, OpenAPI at ``/docs``, health at ``/health``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

import kilowatt

if TYPE_CHECKING:
    from kilowatt.app import Application

DESCRIPTION = """
Kilowatt is a charging station management system (CSMS). Stations connect over OCPP-J at
`ws://HOST:OCPP_PORT/ocpp/{station_id}`; operators use this API.

Authentication: `Authorization: Bearer <token>`, where the token is `KILOWATT_ADMIN_TOKEN` or an API key
(`/api/v1/api-keys`). Roles: viewer reads; operator also sends commands and manages id tokens; admin
also manages stations and API keys. Without `KILOWATT_ADMIN_TOKEN` configured the API is read-only and
API keys are not consulted. Every write is recorded in `/api/v1/audit-log`. Lists are paginated with `limit` (at most 500) and `offset` and return
`{"items": [...], "total": N, "limit": L, "offset": O}`. Errors are JSON `{"detail": ...}` with a
4xx status that says what was wrong: a sentence, or for a request that breaks the schema (422) a list naming
each bad field. Timestamps are RFC 3339 strings with a time zone.

Probes (no token): `GET /health` is liveness (the process answers; restart it if not); `GET /health/ready`
is readiness: 200 when the database answers `SELECT 1` and, when `KILOWATT_REDIS_URL` is set, Redis
answers PING (2 s each), else 503 naming the failed check and why (take the node out of rotation).
"""

SWAGGER_UI = Path(__file__).parent / "static" / "swagger-ui"
"""Swagger UI's files, shipped in the package: /docs must work on an operator's network without internet."""
DOCS_ASSETS = "/docs/assets"



def create_api(application: Application) -> FastAPI:
    from kilowatt.api.audit import AuditMiddleware
    from kilowatt.api.command_answers import install_command_error_handler
    from kilowatt.api.errors import install_error_handlers
    from kilowatt.api.routes import (
        api_keys,
        audit_log,
        charging,
        charging_reports,
        customer_information,
        display_messages,
        energy_operations,
        firmware,
        health,
        id_tokens,
        local_list,
        management,
        monitoring,
        remote_operations,
        reservations,
        station_reports,
        stations,
        transactions,
        variables,
    )

    api = FastAPI(
        title="Kilowatt CSMS",
        version=kilowatt.__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    api.state.application = application
    api.state.settings = application.settings
    api.state.services = application.services

    install_error_handlers(api)
    install_command_error_handler(api)
    api.mount(DOCS_ASSETS, StaticFiles(directory=SWAGGER_UI), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Kilowatt CSMS API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=None,
        )

    api.include_router(health.router)
    for module in (
        stations,
        id_tokens,
        transactions,
        remote_operations,
        variables,
        management,
        local_list,
        reservations,
        charging,
        firmware,
        api_keys,
        audit_log,
    ):
        api.include_router(module.router, prefix="/api/v1")
    # What stations report on their own (OCPP 2.0.1 and later).
    for module in (station_reports, monitoring, display_messages, charging_reports, customer_information):
        api.include_router(module.router, prefix="/api/v1")
    api.include_router(energy_operations.router, prefix="/api/v1")
    api.include_router(energy_operations.reads, prefix="/api/v1")
    api.add_middleware(AuditMiddleware)
    return api
