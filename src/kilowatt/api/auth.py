"""Bearer-token authentication and roles for the API.

A caller sends ``Authorization: Bearer <token>``, where the token is ``KILOWATT_ADMIN_TOKEN`` (role
admin, recorded as ``admin-token``) or an API key (its own name and role; see
``kilowatt.services.api_keys``). Roles are ranked: viewer reads; operator also sends commands to
stations and manages id tokens; admin also manages stations and API keys.

Without ``KILOWATT_ADMIN_TOKEN`` configured authentication is off: reads stay open (a fresh install
can be looked at), every write is refused with a message that says how to set the token, and API
keys are not consulted — keys are issued by an admin, so authentication starts with the admin token.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from kilowatt.services.api_keys import looks_like_key

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <KILOWATT_ADMIN_TOKEN or API key>`")

NO_TOKEN_CONFIGURED = (
    "no admin token is configured, so the API is read-only: "
    "set KILOWATT_ADMIN_TOKEN in the server's environment and send it as 'Authorization: Bearer <token>'"
)
MISSING = "missing bearer token"
INVALID = "invalid bearer token"


@dataclass(slots=True, frozen=True)
class Principal:
    """Who is calling. ``role`` is admin, operator or viewer; ``name`` is recorded in audit trails."""

    name: str
    role: str


ANONYMOUS_READER = Principal("anonymous", "viewer")
ADMIN_TOKEN_HOLDER = Principal("admin-token", "admin")
UNAUTHENTICATED = Principal("unauthenticated", "none")
"""Not a caller the API serves; what the audit log records for a request refused with 401."""


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, read as FastAPI's HTTPBearer reads it."""
    scheme, token = get_authorization_scheme_param(authorization)
    if not authorization or scheme.lower() != "bearer" or not token:
        return None
    return token


async def identify(request: Request, token: str | None) -> tuple[Principal, str | None]:
    """The caller a token stands for, and the 401 detail when it stands for nobody.

    The answer is kept on ``request.state.principal`` so the audit middleware names the same caller
    without looking the key up again.
    """
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    result = await _identify(request, token)
    request.state.principal = result
    return result


async def _identify(request: Request, token: str | None) -> tuple[Principal, str | None]:
    admin_token: str | None = request.app.state.settings.admin_token
    if not admin_token:
        return ANONYMOUS_READER, None
    if token is None:
        return UNAUTHENTICATED, MISSING
    if hmac.compare_digest(token.encode(), admin_token.encode()):
        return ADMIN_TOKEN_HOLDER, None
    if looks_like_key(token):
        holder = await request.app.state.services.api_keys.authenticate(token)
        if holder is not None:
            return Principal(holder.name, holder.role), None
    return UNAUTHENTICATED, INVALID


async def principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """Resolve the caller; raises 401 for a missing or wrong token when authentication is on."""
    who, refusal = await identify(request, credentials.credentials if credentials is not None else None)
    if refusal is not None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, refusal, headers={"WWW-Authenticate": "Bearer"})
    return who


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
