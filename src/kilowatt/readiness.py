"""Readiness: can this process do its work right now? The database answers, and Redis when configured.

Liveness (``GET /health``) asks "is the process alive"; a load balancer or Kubernetes asks
readiness ("send me traffic?") separately, so a node whose database or Redis is unreachable is taken
out of rotation without being restarted — restarting would not bring the database back.

Each check has a short timeout of its own and they run concurrently: a probe must answer within its
own deadline (Kubernetes' ``timeoutSeconds``), and a dependency that hangs instead of refusing (a
dropped packet, a half-open connection) must read as "not ready", not as a probe that never returns.
A failed check says why in one line, without the URL (it may carry a password).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

CHECK_TIMEOUT_S = 2.0
"""Each check's deadline. Below Kubernetes probes' ``timeoutSeconds`` in deploy/k8s (5 s), so a slow
dependency answers 503 with its reason instead of a probe timeout that says nothing."""

MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class Check:
    """One dependency's answer: ``ok``, or ``error`` with the reason."""

    ok: bool
    detail: str = "ok"

    def as_json(self) -> dict[str, str]:
        return {"status": "ok"} if self.ok else {"status": "error", "error": self.detail}


@dataclass(frozen=True)
class Readiness:
    checks: dict[str, Check] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks.values())

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ready" if self.ready else "not ready",
            "checks": {name: check.as_json() for name, check in self.checks.items()},
        }


def _reason(exc: BaseException) -> str:
    """One line: the exception's type and message, plus the operating system's word for the socket
    error underneath (drivers say "Error 111" or "Connect call failed"; an operator reads "Connection refused")."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    reason = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.errno:
            words = os.strerror(cause.errno)
            if words.lower() not in reason.lower():
                reason = f"{reason} ({words})"
            break
        cause = cause.__cause__ or cause.__context__
    return reason[:MAX_REASON_CHARS]


async def check_database(engine: AsyncEngine, timeout_s: float = CHECK_TIMEOUT_S) -> Check:
    """``SELECT 1`` through ``engine`` (the process's own pool: what its requests would use)."""

    async def select_one() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        async with asyncio.timeout(timeout_s):
            await select_one()
    except TimeoutError:
        return Check(False, f"no answer within {timeout_s:g} s")
    except Exception as exc:  # reporting the failure is the point of the check
        return Check(False, _reason(exc))
    return Check(True)


async def check_redis(url: str, timeout_s: float = CHECK_TIMEOUT_S) -> Check:
    """PING on a connection of its own, closed afterwards: the check must not depend on (or disturb)
    the bus's connections, and one connection every probe period costs Redis nothing."""
    try:
        from redis import asyncio as redis_asyncio
    except ImportError:
        return Check(False, "KILOWATT_REDIS_URL is set but the redis package is not installed (pip install 'kilowatt[redis]')")
    try:
        client = redis_asyncio.from_url(url, socket_connect_timeout=timeout_s, socket_timeout=timeout_s)
    except ValueError as exc:  # a malformed URL: say so rather than "not ready" for no visible reason
        return Check(False, f"invalid KILOWATT_REDIS_URL: {_reason(exc)}")
    try:
        async with asyncio.timeout(timeout_s):
            await client.ping()
    except TimeoutError:
        return Check(False, f"no answer within {timeout_s:g} s")
    except Exception as exc:
        return Check(False, _reason(exc))
    finally:
        await client.aclose()
    return Check(True)


async def check_ready(engine: AsyncEngine, redis_url: str | None, timeout_s: float = CHECK_TIMEOUT_S) -> Readiness:
    """Every check this process's configuration calls for, run concurrently."""
    names = ["database"]
    checks = [check_database(engine, timeout_s)]
    if redis_url:
        names.append("redis")
        checks.append(check_redis(redis_url, timeout_s))
    results = await asyncio.gather(*checks)
    return Readiness(dict(zip(names, results, strict=True)))
