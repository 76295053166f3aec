"""Liveness and readiness: ``GET /health`` answers 200 when the database answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

import kilowatt

router = APIRouter(tags=["health"])


@router.get("/health", summary="Health of this process and its database")
async def health(request: Request) -> JSONResponse:
    application = request.app.state.application
    database = "ok"
    try:
        async with application.sessions() as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # the point of a health check is to report this, not raise it
        database = f"error: {type(exc).__name__}"
    body = {
        "status": "ok" if database == "ok" else "degraded",
        "version": kilowatt.__version__,
        "database": database,
        "connected_stations": len(application.gateway.connections),
        **application.info(),
    }
    return JSONResponse(body, status_code=200 if database == "ok" else 503)
