"""Authorization of id tokens: status, expiry, groups (parent id tokens) and blocking."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from kilowatt.services.common import Conflict, Invalid, NotFound, Page, from_row, paginate
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.lookup import BatchedLookup
from kilowatt.storage.models import IdToken, utcnow

TOKEN_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")
TOKEN_TYPES = ("Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization")


@dataclass(slots=True, frozen=True)
class AuthorizationResult:
    """The answer to "may this token charge?", in the vocabulary both 1.6 and 2.0.1 share.

    ``status`` is Accepted, Blocked, Expired, Invalid or ConcurrentTx. ``known`` is False for a
    token that is not registered at all: 1.6 says Invalid for it, 2.0.1 has a word of its own
    (Unknown), which its edge uses.
    """

    status: str
    expiry_date: datetime | None = None
    parent_id_token: str | None = None
    known: bool = True


UNKNOWN = AuthorizationResult("Invalid", known=False)


@dataclass(slots=True, frozen=True)
class IdTokenRecord:
    """An id token as stored: its own status, not the effective one :meth:`AuthorizationService.authorize` decides."""

    id_token: str
    status: str
    type: str
    expiry_date: datetime | None
    parent_id_token: str | None  # the group this token belongs to
    created_at: datetime
    updated_at: datetime


class AuthorizationService:
    def __init__(self, sessions: SessionFactory):
        self._sessions = sessions
        # Concurrent decisions share one query: a transaction burst is a thousand of them at once.
        # Nothing is cached between queries, so blocking a token takes effect at the next message.
        self._lookups: BatchedLookup[str, AuthorizationResult] = BatchedLookup(self.authorize_many)

    async def authorize(self, id_token: str) -> AuthorizationResult:
        """Decide for a token: its own status and expiry, and its group's (parent's) blocking.

        A token whose parent (group) is Blocked is Blocked too; an Accepted token past its expiry
        date is Expired; a token we do not know is Invalid.
        """
        return await self._lookups.get(id_token) or UNKNOWN

    async def authorize_many(self, id_tokens: list[str] | None = None) -> dict[str, AuthorizationResult]:
        """The effective authorization of many tokens in one query (all tokens when ``id_tokens`` is None).

        The same rules as :meth:`authorize`; tokens that do not exist are left out of the answer.
        """
        parent = aliased(IdToken)
        query = select(IdToken, parent.status).outerjoin(parent, parent.id_token == IdToken.parent_id_token)
        if id_tokens is not None:
            if not id_tokens:
                return {}
            query = query.where(IdToken.id_token.in_(set(id_tokens)))
        async with self._sessions() as session:
            rows = (await session.execute(query.order_by(IdToken.id_token))).all()
        now = utcnow()
        return {token.id_token: _effective(token, parent_status, now) for token, parent_status in rows}

    # --- operator side ------------------------------------------------------------------------

    async def create(
        self,
        id_token: str,
        status: str = "Accepted",
        type: str = "ISO14443",
        expiry_date: datetime | None = None,
        parent_id_token: str | None = None,
    ) -> IdTokenRecord:
        token = IdToken(id_token=id_token, status=status, type=type, expiry_date=expiry_date, parent_id_token=parent_id_token)
        try:
            async with self._sessions.begin() as session:
                await self._check_parent(session, id_token, parent_id_token)
                session.add(token)
        except IntegrityError:
            raise Conflict(f"id token {id_token!r} already exists") from None
        return from_row(token, IdTokenRecord)

    async def get(self, id_token: str) -> IdTokenRecord:
        async with self._sessions() as session:
            token = (await session.execute(select(IdToken).where(IdToken.id_token == id_token))).scalar_one_or_none()
        if token is None:
            raise NotFound(f"id token {id_token!r} not found")
        return from_row(token, IdTokenRecord)

    async def list(
        self, limit: int = 50, offset: int = 0, status: str | None = None, parent_id_token: str | None = None
    ) -> Page[IdTokenRecord]:
        query = select(IdToken)
        if status:
            query = query.where(IdToken.status == status)
        if parent_id_token:
            query = query.where(IdToken.parent_id_token == parent_id_token)
        async with self._sessions() as session:
            page = await paginate(session, query, IdToken.id_token, limit, offset)
        return page.map(lambda row: from_row(row, IdTokenRecord))

    async def update(self, id_token: str, **changes: Any) -> IdTokenRecord:
        """Change any of ``status``, ``type``, ``expiry_date``, ``parent_id_token``."""
        async with self._sessions.begin() as session:
            token = (await session.execute(select(IdToken).where(IdToken.id_token == id_token))).scalar_one_or_none()
            if token is None:
                raise NotFound(f"id token {id_token!r} not found")
            if "parent_id_token" in changes:
                await self._check_parent(session, id_token, changes["parent_id_token"])
            for key in ("status", "type", "expiry_date", "parent_id_token"):
                if key in changes:
                    setattr(token, key, changes[key])
        return from_row(token, IdTokenRecord)

    async def delete(self, id_token: str) -> None:
        async with self._sessions.begin() as session:
            token = (await session.execute(select(IdToken).where(IdToken.id_token == id_token))).scalar_one_or_none()
            if token is None:
                raise NotFound(f"id token {id_token!r} not found")
            await session.delete(token)

    @staticmethod
    async def _check_parent(session: Any, id_token: str, parent_id_token: str | None) -> None:
        if parent_id_token is None:
            return
        if parent_id_token == id_token:
            raise Invalid("an id token cannot be its own parent")
        exists = (await session.execute(select(IdToken.id).where(IdToken.id_token == parent_id_token))).first()
        if exists is None:
            raise Invalid(f"parent id token {parent_id_token!r} does not exist; create it first")


def _effective(token: IdToken, parent_status: str | None, now: datetime) -> AuthorizationResult:
    status = token.status
    if status == "Accepted":
        if parent_status == "Blocked":
            status = "Blocked"
        elif token.expiry_date is not None and token.expiry_date <= now:
            status = "Expired"
    return AuthorizationResult(status, token.expiry_date, token.parent_id_token)
