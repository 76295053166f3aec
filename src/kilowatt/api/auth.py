"""Bearer-token authentication for the API.

``KILOWATT_ADMIN_TOKEN`` is a token with full rights. Without it configured, reads stay open (a
fresh install can be looked at) and every write is refused with a message that says how to set it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <KILOWATT_ADMIN_TOKEN or API key>`")

NO_TOKEN_CONFIGURED = (
    "no admin token is configured, so the API is read-only: "
    "set KILOWATT_ADMIN_TOKEN in the server's environment and send it as 'Authorization: Bearer <token>'"
)


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is calling. ``role`` is admin, operator or viewer; ``name`` is recorded in audit trails."""

    name: str
    role: str



ANONYMOUS_READER = Principal("anonymous", "viewer")


async def principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """Resolve the caller; raises 401 for a missing or wrong token when one is configured."""
    admin_token: str | None = request.app.state.settings.admin_token
    if not admin_token:
        return ANONYMOUS_READER
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", headers={"WWW-Authenticate": "Bearer"}
        )
    if hmac.compare_digest(credentials.credentials.encode(), admin_token.encode()):
        return Principal("admin-token", "admin")
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid bearer token", headers={"WWW-Authenticate": "Bearer"})


ROLE_RANK = {"viewer": 0, "operator": 1, "admin": 2}


async def reader(who: Principal = Depends(principal)) -> Principal:
    """Any authenticated caller (viewer and up)."""
    return who


def _requires(role: str):  # noqa: ANN202 - a FastAPI dependency factory
    async def dependency(request: Request, who: Principal = Depends(principal)) -> Principal:
        if not request.app.state.settings.admin_token:
            raise HTTPException(status.HTTP_403_FORBIDDEN, NO_TOKEN_CONFIGURED)
        if ROLE_RANK.get(who.role, -1) < ROLE_RANK[role]:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {role} role; {who.name!r} has {who.role!r}")
        return who

    dependency.__name__ = f"requires_{role}"
    return dependency


# operator: sends commands and manages id tokens; admin: also manages stations and API keys.
operator = _requires("operator")
admin = _requires("admin")
writer = operator
