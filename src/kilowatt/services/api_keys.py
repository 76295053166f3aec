"""API keys: bearer credentials with a role, issued by an admin, stored only as a hash.

A key is ``kw_`` followed by 43 url-safe characters (32 random bytes). It is shown once, when it is
created; the table keeps its SHA-256 and its first characters (``prefix``), which find the row and
let a person tell keys apart in a list without revealing them. A slow password hash would buy
nothing here: 256 random bits cannot be guessed, and a fast hash keeps the per-request check cheap.

Every request looks the key up (one indexed read), so a revoked key stops working at once, on every
process. ``last_used_at`` is written at most once a minute per key, so a busy key does not cost a
write per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from kilowatt.services.common import Conflict, Invalid, NotFound, Page, from_row, paginate
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import ApiKey, utcnow

ROLES = ("admin", "operator", "viewer")
KEY_MARK = "kw_"
PREFIX_LENGTH = len(KEY_MARK) + 8  # "kw_" and 8 characters: 48 of the key's 256 random bits
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_NAME_LENGTH = 64
# Names the audit log uses for callers that are not API keys; a key may not pass for one of them.
RESERVED_NAMES = frozenset({"admin-token", "anonymous", "unauthenticated"})


@dataclass(slots=True, frozen=True)
class KeyHolder:
    """Who an API key belongs to: what :meth:`ApiKeyService.authenticate` answers."""

    key_id: int
    name: str
    role: str


@dataclass(slots=True, frozen=True)
class ApiKeyRecord:
    """An API key as listed: never the key itself, nor its hash."""

    id: int
    name: str
    role: str
    prefix: str  # the key's first characters, to tell keys apart
    created_at: datetime
    created_by: str
    last_used_at: datetime | None  # to the minute
    revoked_at: datetime | None


@dataclass(slots=True, frozen=True)
class CreatedKey:
    """A new key's record and the key itself — the only time the key is available."""

    api_key: ApiKeyRecord
    key: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(KEY_MARK) and len(token) > PREFIX_LENGTH


class ApiKeyService:
    """Owns ``api_keys``."""

    def __init__(self, sessions: SessionFactory):
        self._sessions = sessions

    async def create(self, name: str, role: str, created_by: str) -> CreatedKey:
        """A new key for ``role``; ``name`` must not be used by another active key (it is who the audit log names)."""
        if role not in ROLES:
            raise Invalid(f"role must be one of {', '.join(ROLES)}")
        if not name or len(name) > MAX_NAME_LENGTH:
            raise Invalid(f"a key name is 1 to {MAX_NAME_LENGTH} characters")
        if name.lower() in RESERVED_NAMES:
            raise Invalid(f"{name!r} is reserved")
        key = KEY_MARK + secrets.token_urlsafe(32)
        row = ApiKey(name=name, role=role, prefix=key[:PREFIX_LENGTH], key_hash=hash_key(key), created_by=created_by[:64])
        async with self._sessions.begin() as session:
            taken = (
                await session.execute(select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_(None)))
            ).first()
            if taken is not None:
                raise Conflict(f"an active API key named {name!r} exists already")
            session.add(row)
        return CreatedKey(from_row(row, ApiKeyRecord), key)

    async def get(self, key_id: int) -> ApiKeyRecord:
        async with self._sessions() as session:
            row = await session.get(ApiKey, key_id)
        if row is None:
            raise NotFound(f"API key {key_id} not found")
        return from_row(row, ApiKeyRecord)

    async def list(self, limit: int = 50, offset: int = 0, revoked: bool | None = None) -> Page[ApiKeyRecord]:
        """Keys oldest first; ``revoked`` True/False keeps only revoked/active ones."""
        query = select(ApiKey)
        if revoked is True:
            query = query.where(ApiKey.revoked_at.is_not(None))
        elif revoked is False:
            query = query.where(ApiKey.revoked_at.is_(None))
        async with self._sessions() as session:
            page = await paginate(session, query, ApiKey.id, limit, offset)
        return page.map(lambda row: from_row(row, ApiKeyRecord))

    async def revoke(self, key_id: int) -> ApiKeyRecord:
        """Revoke a key; it fails from the next request on. Revoking a revoked key changes nothing."""
        async with self._sessions.begin() as session:
            row = await session.get(ApiKey, key_id, with_for_update=True)
            if row is None:
                raise NotFound(f"API key {key_id} not found")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
        return from_row(row, ApiKeyRecord)

    async def authenticate(self, key: str) -> KeyHolder | None:
        """The holder of an active key, or None for a wrong, unknown or revoked one."""
        if not looks_like_key(key):
            return None
        digest = hash_key(key)
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(ApiKey.id, ApiKey.name, ApiKey.role, ApiKey.key_hash, ApiKey.last_used_at).where(
                        ApiKey.prefix == key[:PREFIX_LENGTH], ApiKey.revoked_at.is_(None)
                    )
                )
            ).all()
        match = next((r for r in rows if hmac.compare_digest(r.key_hash, digest)), None)
        if match is None:
            return None
        now = utcnow()
        if match.last_used_at is None or now - match.last_used_at >= LAST_USED_RESOLUTION:
            async with self._sessions.begin() as session:
                await session.execute(update(ApiKey).where(ApiKey.id == match.id).values(last_used_at=now))
        return KeyHolder(match.id, match.name, match.role)
