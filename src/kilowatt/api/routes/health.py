"""Liveness and readiness.

``GET /health`` is liveness: the process answers (and says how its database is). ``GET
/health/ready`` is readiness: the database answers ``SELECT 1`` and, when ``KILOWATT_REDIS_URL`` is
set, Redis answers PING, each within a short timeout (:mod:`kilowatt.readiness`). A load balancer or
Kubernetes takes a node that is not ready out of rotation; it restarts one that is not alive.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

import kilowatt
from kilowatt.readiness import check_database, check_ready

router = APIRouter(tags=["health"])


@router.get("/health", summary="Health of this process and its database")
async def health(request: Request) -> JSONResponse:
    application = request.app.state.application
    # The readiness check's SELECT 1, with its timeout: a database that hangs must not hang liveness.
    check = await check_database(application.engine)
    database = "ok" if check.ok else f"error: {check.detail}"
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "version": kilowatt.__version__,
        "database": database,
        "connected_stations": len(application.gateway.connections),
        **application.info(),
    }
    return JSONResponse(body, status_code=200 if database == "ok" else 503)


class CheckOut(BaseModel):
    status: Literal["ok", "error"]
    error: str | None = Field(None, description="Why the check failed (absent when ok)", examples=["ConnectionError: Error 111 connecting to 127.0.0.1:6379. Connection refused."])


class ReadinessOut(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, CheckOut] = Field(
        description="`database` always; `redis` when KILOWATT_REDIS_URL is set",
        examples=[{"database": {"status": "ok"}, "redis": {"status": "ok"}}],
    )


@router.get(
    "/health/ready",
    summary="Readiness: the database and (when configured) Redis answer",
    description="200 when every check passes; 503 naming the check that failed and why. Each check has a "
    "2 s timeout and they run concurrently. No token needed. Use it as the readiness probe; `/health` is "
    "the liveness probe (a process whose database is down should leave the rotation, not be restarted).",
    response_model=ReadinessOut,
    response_model_exclude_none=True,
    responses={503: {"model": ReadinessOut, "description": "A check failed: `checks` says which and why"}},
)
async def ready(request: Request) -> JSONResponse:
    application = request.app.state.application
    readiness = await check_ready(application.engine, application.settings.redis_url)
    return JSONResponse(readiness.as_json(), status_code=200 if readiness.ready else 503)
