"""Authorization of id tokens: status, expiry, groups (parent id tokens), blocking, token types
and the personal message a station shows the driver."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from kilowatt.services.common import Conflict, Invalid, NotFound, Page, paginate
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.lookup import BatchedLookup
from kilowatt.storage.models import IdToken, id_token_key, utcnow

TOKEN_STATUSES = ("Accepted", "Blocked", "Expired", "Invalid")
TOKEN_TYPES = ("Central", "eMAID", "ISO14443", "ISO15693", "KeyCode", "Local", "MacAddress", "NoAuthorization")
MESSAGE_FORMATS = ("ASCII", "HTML", "URI", "UTF8", "QRCODE")  # OCPP 2.0.1 MessageFormatEnumType; 2.1 adds QRCODE


@dataclass(slots=True, frozen=True)
class PersonalMessage:
    """What a station shows the driver with an answer about a token (OCPP 2.0.1 MessageContentType)."""

    format: str  # one of MESSAGE_FORMATS
    content: str  # at most 512 characters (2.0.1's bound; 2.1 allows 1024)
    language: str | None = None  # RFC 5646, at most 8 characters


@dataclass(slots=True, frozen=True)
class AuthorizationResult:
    """The answer to "may this token charge?", in the vocabulary both 1.6 and 2.0.1 share.

    ``status`` is Accepted, Blocked, Expired, Invalid or ConcurrentTx. ``known`` is False for a
    token that is not registered at all, or presented with another type than the registered one:
    1.6 says Invalid for it, 2.0.1 has a word of its own (Unknown), which its edge uses. An unknown
    token's answer carries nothing else (no group, expiry or message of a token it is not).
    """

    status: str
    expiry_date: datetime | None = None
    parent_id_token: str | None = None
    known: bool = True
    id_token_type: str | None = None  # the registered token's IdTokenEnumType
    parent_id_token_type: str | None = None  # its group's
    personal_message: PersonalMessage | None = None


UNKNOWN = AuthorizationResult("Invalid", known=False)


@dataclass(slots=True, frozen=True)
class IdTokenRecord:
    """An id token as stored: its own status, not the effective one :meth:`AuthorizationService.authorize` decides."""

    id_token: str
    status: str
    type: str
    expiry_date: datetime | None
    parent_id_token: str | None  # the group this token belongs to
    personal_message: PersonalMessage | None
    created_at: datetime
    updated_at: datetime


class AuthorizationService:
    def __init__(self, sessions: SessionFactory):
        self._sessions = sessions
        # Concurrent decisions share one query: a transaction burst is a thousand of them at once.
        # Nothing is cached between queries, so blocking a token takes effect at the next message.
        # Keyed by id_token_key: "abcd1234" and "ABCD1234" asked at once share one key.
        self._lookups: BatchedLookup[str, AuthorizationResult] = BatchedLookup(self._authorize_keys)

    async def authorize(self, id_token: str, id_token_type: str | None = None) -> AuthorizationResult:
        """Decide for a token: its own status and expiry, and its group's (parent's) blocking.

        A token whose parent (group) is Blocked is Blocked too; an Accepted token past its expiry
        date is Expired; a token we do not know is Invalid (``known`` False).

        ``id_token_type`` is the IdTokenEnumType a 2.0.1/2.1 station presented the token with: an
        RFID card and a key code may share a value, and are not the same token, so a type other
        than the registered one is a token we do not know. None (1.6 idTag, an operator's
        request) matches by value alone. The type is compared after the look-up, which stays keyed
        by value: concurrent decisions still share one query.

        The value matches whatever its case (OCPP: an IdToken is case insensitive); the type is
        an enumeration and matches exactly.
        """
        result = await self._lookups.get(id_token_key(id_token))
        if result is None or (id_token_type is not None and id_token_type != result.id_token_type):
            return UNKNOWN
        return result

    async def authorize_many(self, id_tokens: list[str] | None = None) -> dict[str, AuthorizationResult]:
        """The effective authorization of many tokens in one query (all tokens when ``id_tokens`` is None).

        The same rules as :meth:`authorize`; tokens that do not exist are left out of the answer.
        Tokens are asked for in any case and answered under their registered spelling.
        """
        keys = None if id_tokens is None else [id_token_key(id_token) for id_token in id_tokens]
        return {token.id_token: result for token, result in await self._fetch(keys)}

    async def _authorize_keys(self, keys: list[str]) -> dict[str, AuthorizationResult]:
        """:meth:`authorize`'s batched query: the answers keyed by id_token_key."""
        return {token.key: result for token, result in await self._fetch(keys)}

    async def _fetch(self, keys: list[str] | None) -> list[tuple[IdToken, AuthorizationResult]]:
        parent = aliased(IdToken)
        query = select(IdToken, parent.status, parent.type).outerjoin(parent, parent.id_token == IdToken.parent_id_token)
        if keys is not None:
            if not keys:
                return []
            query = query.where(IdToken.key.in_(set(keys)))
        async with self._sessions() as session:
            rows = (await session.execute(query.order_by(IdToken.id_token))).all()
        now = utcnow()
        return [(token, _effective(token, parent_status, parent_type, now)) for token, parent_status, parent_type in rows]

    # --- operator side ------------------------------------------------------------------------

    async def create(
        self,
        id_token: str,
        status: str = "Accepted",
        type: str = "ISO14443",
        expiry_date: datetime | None = None,
        parent_id_token: str | None = None,
        personal_message: PersonalMessage | None = None,
    ) -> IdTokenRecord:
        """Register a token. One that differs from a registered token only in case is that token
        (OCPP: an IdToken is case insensitive): Conflict, naming the registered spelling."""
        key = id_token_key(id_token)
        token = IdToken(id_token=id_token, key=key, status=status, type=type, expiry_date=expiry_date)
        _set_message(token, personal_message)
        try:
            async with self._sessions.begin() as session:
                token.parent_id_token = await self._check_parent(session, id_token, parent_id_token)
                session.add(token)
        except IntegrityError:
            raise Conflict(await self._duplicate(id_token, key)) from None
        return _record(token)

    async def _duplicate(self, id_token: str, key: str) -> str:
        async with self._sessions() as session:
            existing = (await session.execute(select(IdToken.id_token).where(IdToken.key == key))).scalar_one_or_none()
        if existing is None or existing == id_token:
            return f"id token {id_token!r} already exists"
        return f"id token {id_token!r} already exists as {existing!r} (id tokens are case insensitive)"

    async def get(self, id_token: str) -> IdTokenRecord:
        """The token as registered, named in any case."""
        async with self._sessions() as session:
            token = (await session.execute(_named(id_token))).scalar_one_or_none()
        if token is None:
            raise NotFound(f"id token {id_token!r} not found")
        return _record(token)

    async def list(
        self, limit: int = 50, offset: int = 0, status: str | None = None, parent_id_token: str | None = None
    ) -> Page[IdTokenRecord]:
        query = select(IdToken)
        if status:
            query = query.where(IdToken.status == status)
        if parent_id_token:  # the group named in any case; members store its registered spelling
            group = select(IdToken.id_token).where(IdToken.key == id_token_key(parent_id_token)).scalar_subquery()
            query = query.where(IdToken.parent_id_token == group)
        async with self._sessions() as session:
            page = await paginate(session, query, IdToken.id_token, limit, offset)
        return page.map(_record)

    async def update(self, id_token: str, **changes: Any) -> IdTokenRecord:
        """Change any of ``status``, ``type``, ``expiry_date``, ``parent_id_token``, ``personal_message`` (None clears it)."""
        async with self._sessions.begin() as session:
            token = (await session.execute(_named(id_token))).scalar_one_or_none()
            if token is None:
                raise NotFound(f"id token {id_token!r} not found")
            if "parent_id_token" in changes:
                changes["parent_id_token"] = await self._check_parent(session, token.id_token, changes["parent_id_token"])
            for key in ("status", "type", "expiry_date", "parent_id_token"):
                if key in changes:
                    setattr(token, key, changes[key])
            if "personal_message" in changes:
                _set_message(token, changes["personal_message"])
        return _record(token)

    async def delete(self, id_token: str) -> None:
        async with self._sessions.begin() as session:
            token = (await session.execute(_named(id_token))).scalar_one_or_none()
            if token is None:
                raise NotFound(f"id token {id_token!r} not found")
            await session.delete(token)

    @staticmethod
    async def _check_parent(session: Any, id_token: str, parent_id_token: str | None) -> str | None:
        """The group's registered spelling (it is named in any case), which a member stores: the
        look-ups join a member to its group on it."""
        if parent_id_token is None:
            return None
        if id_token_key(parent_id_token) == id_token_key(id_token):
            raise Invalid("an id token cannot be its own parent")
        registered = (await session.execute(select(IdToken.id_token).where(IdToken.key == id_token_key(parent_id_token)))).scalar()
        if registered is None:
            raise Invalid(f"parent id token {parent_id_token!r} does not exist; create it first")
        return registered


def _named(id_token: str) -> Any:
    """The query for the registered token ``id_token`` names, whatever its case."""
    return select(IdToken).where(IdToken.key == id_token_key(id_token))


def _effective(token: IdToken, parent_status: str | None, parent_type: str | None, now: datetime) -> AuthorizationResult:
    status = token.status
    if status == "Accepted":
        if parent_status == "Blocked":
            status = "Blocked"
        elif token.expiry_date is not None and token.expiry_date <= now:
            status = "Expired"
    return AuthorizationResult(
        status,
        token.expiry_date,
        token.parent_id_token,
        id_token_type=token.type,
        parent_id_token_type=parent_type,
        personal_message=_message(token),
    )


def _message(token: IdToken) -> PersonalMessage | None:
    if token.personal_message_content is None or token.personal_message_format is None:
        return None
    return PersonalMessage(token.personal_message_format, token.personal_message_content, token.personal_message_language)


def _set_message(token: IdToken, message: PersonalMessage | None) -> None:
    token.personal_message_format = None if message is None else message.format
    token.personal_message_content = None if message is None else message.content
    token.personal_message_language = None if message is None else message.language


def _record(token: IdToken) -> IdTokenRecord:
    return IdTokenRecord(
        id_token=token.id_token,
        status=token.status,
        type=token.type,
        expiry_date=token.expiry_date,
        parent_id_token=token.parent_id_token,
        personal_message=_message(token),
        created_at=token.created_at,
        updated_at=token.updated_at,
    )
