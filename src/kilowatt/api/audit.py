"""Audit middleware: records every write made through ``/api/v1`` — who, what, and how it ended.

A request with method POST, PUT, PATCH or DELETE under ``/api/v1`` is recorded whatever its outcome
(2xx, 4xx — refused ones included — or 5xx), with the caller's name and role, the path (and query
string), the status code and the JSON body with secrets replaced by ``"***"`` (see :func:`redact`).
Reads are never recorded and cost nothing here: the middleware hands them straight through.

The entry is committed before the response starts, so a client that has its answer finds the
entry. Recording must never break the request it records: a failure is logged, not raised.
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilowatt.api.auth import UNAUTHENTICATED, bearer_token, identify
from kilowatt.services.redaction import redact

log = structlog.get_logger("kilowatt.audit")

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/v1"
MAX_RECORDED_BODY_BYTES = 64 * 1024
MAX_REQUEST_BODY_BYTES = 1024 * 1024  # no API request needs more; a local list of thousands of tokens fits


class _BodyTooLarge(Exception):
    pass


def recorded_body(raw: bytes) -> dict[str, Any] | None:
    """What is stored of a request body: always an object (or None for no body).

    The redacted JSON when it is an object; other JSON (``7``, ``"x"``, ``[1]``) wrapped as
    ``{"json": <value>}``; otherwise a note saying why it was not recorded. Always an object because
    a bare scalar in a JSON column does not read back as JSON everywhere: SQLite's NUMERIC affinity
    stores the text ``7`` as the integer 7, and the log page holding it could not be shown.
    """
    if not raw:
        return None
    if len(raw) > MAX_RECORDED_BODY_BYTES:
        return {"not_recorded": f"body of {len(raw)} bytes is over {MAX_RECORDED_BODY_BYTES}"}
    try:
        body = redact(orjson.loads(raw))
    except orjson.JSONDecodeError:
        return {"not_recorded": f"body of {len(raw)} bytes is not JSON"}
    return body if isinstance(body, dict) else {"json": body}


class AuditMiddleware:
    """Pure ASGI, so a streamed response passes untouched and reads pay only one comparison."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS or not _under_api(scope["path"]):
            await self.app(scope, receive, send)
            return

        try:
            raw, replay = await _read_body(receive)
        except _BodyTooLarge:
            await self._record(scope, b"", 413)
            response = JSONResponse({"detail": f"request body over {MAX_REQUEST_BODY_BYTES} bytes"}, status_code=413)
            await response(scope, receive, send)
            return
        recorded = False

        async def send_recording(message: Message) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                recorded = True
                await self._record(scope, raw, message["status"])
            await send(message)

        try:
            await self.app(scope, replay, send_recording)
        except Exception:
            if not recorded:  # the exception becomes a 500 further out
                recorded = True
                await self._record(scope, raw, 500)
            raise

    async def _record(self, scope: Scope, raw: bytes, status_code: int) -> None:
        path = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
        path = path.replace("\x00", "%00")  # a decoded %00: PostgreSQL cannot store NUL, so it stays escaped
        try:
            request = Request(scope)
            who, refusal = await identify(request, bearer_token(request.headers.get("authorization")))
            if refusal is not None:
                who = UNAUTHENTICATED
            await request.app.state.services.audit.record(
                who.name, who.role, scope["method"], path, status_code, recorded_body(raw)
            )
        except Exception:  # never fail the request being recorded
            log.exception("audit entry not recorded", method=scope["method"], path=path, status_code=status_code)


def _under_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body now (to record it) and give the application a receive that replays it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away before sending it all
            pending: list[Message] = [message]
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_REQUEST_BODY_BYTES:  # read before authentication: a stranger must not fill memory
            raise _BodyTooLarge
        if not message.get("more_body", False):
            pending = [{"type": "http.request", "body": b"".join(chunks), "more_body": False}]
            break
    raw = b"".join(chunks)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return raw, replay
