"""Local authorization lists: what each station holds, so it can authorize drivers while offline.

The CSMS computes the list from its id tokens (their *effective* authorization: a token in a
Blocked group is Blocked, one past its expiry is Expired) and keeps, per station, the list and
version the station last **accepted** — never what was only sent. A Full update sends the whole
list; a Differential update sends only the entries that differ from the stored list, plus
removals (entries without a status). Either way the new version is the stored one plus one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, select

from kilowatt.commands.model import (
    AuthorizationStatus,
    GetLocalListVersion,
    GetLocalListVersionResult,
    IdTokenType,
    LocalListEntry,
    SendLocalList,
)
from kilowatt.commands.model import UpdateType as ListUpdateType
from kilowatt.services.authorization import AuthorizationResult, AuthorizationService
from kilowatt.services.command_service import CommandAnswer, CommandService
from kilowatt.services.common import Invalid
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import LocalAuthList, LocalAuthListEntry, id_token_key, utcnow

UpdateType = Literal["Full", "Differential"]


@dataclass(slots=True, frozen=True)
class ListEntry:
    """One token in a local list, with the authorization the station will apply to it and the
    types (the registered token's and its group's) a 2.0.1 station gets it with."""

    id_token: str
    status: str
    expiry_date: datetime | None = None
    parent_id_token: str | None = None
    id_token_type: str | None = None
    parent_id_token_type: str | None = None

    def as_sent(self) -> LocalListEntry:
        return LocalListEntry(
            self.id_token,
            AuthorizationStatus(self.status),
            self.expiry_date,
            self.parent_id_token,
            _token_type(self.id_token_type),
            _token_type(self.parent_id_token_type),
        )


@dataclass(slots=True, frozen=True)
class StoredList:
    station_id: str
    version: int  # 0: no list was ever accepted
    entries: list[ListEntry]
    updated_at: datetime | None


@dataclass(slots=True, frozen=True)
class LocalListUpdate:
    """The outcome of a SendLocalList: the station's answer and what is stored now."""

    answer: CommandAnswer
    update_type: str
    sent_version: int
    list_version: int  # the stored version after the answer (the sent one only if Accepted)
    entries_sent: int  # entries with authorization data
    removals_sent: int  # entries that remove a token (Differential only)
    entries_stored: int
    note: str | None = None


class LocalListService:
    def __init__(self, sessions: SessionFactory, commands: CommandService, authorization: AuthorizationService):
        self._sessions = sessions
        self._commands = commands
        self._authorization = authorization

    async def stored(self, station_id: str) -> StoredList:
        async with self._sessions() as session:
            header = await session.get(LocalAuthList, station_id)
            rows = (
                await session.execute(
                    select(LocalAuthListEntry).where(LocalAuthListEntry.station_id == station_id).order_by(LocalAuthListEntry.id_token)
                )
            ).scalars()
            entries = [
                ListEntry(r.id_token, r.status, r.expiry_date, r.parent_id_token, r.id_token_type, r.parent_id_token_type)
                for r in rows
            ]
        if header is None:
            return StoredList(station_id, 0, [], None)
        return StoredList(station_id, header.version, entries, header.updated_at)

    async def version(self, station_id: str, requested_by: str) -> CommandAnswer[GetLocalListVersionResult]:
        """Ask the station which list version it holds (GetLocalListVersion); nothing is stored."""
        return await self._commands.send(station_id, GetLocalListVersion(), requested_by)

    async def desired(self, id_tokens: list[str] | None) -> list[ListEntry]:
        """The list the CSMS wants on a station: the given tokens (all when None) with their effective authorization.

        Tokens are named in any case (OCPP: an IdToken is case insensitive) and listed under
        their registered spelling, which is what the station gets and what is stored."""
        results = await self._authorization.authorize_many(id_tokens)
        if id_tokens is not None:
            found = {id_token_key(id_token) for id_token in results}
            unknown = sorted({id_token for id_token in id_tokens if id_token_key(id_token) not in found})
            if unknown:
                raise Invalid(f"unknown id tokens: {', '.join(repr(t) for t in unknown)}")
        return [_entry(id_token, result) for id_token, result in sorted(results.items())]

    async def send(
        self, station_id: str, update_type: UpdateType, id_tokens: list[str] | None, requested_by: str
    ) -> LocalListUpdate:
        """SendLocalList; on Accepted the stored list becomes the desired one, otherwise nothing changes."""
        if update_type not in ("Full", "Differential"):
            raise Invalid("update_type is Full or Differential")
        desired = await self.desired(id_tokens)
        stored = await self.stored(station_id)
        version = stored.version + 1
        if update_type == "Full":
            sent: list[LocalListEntry] = [entry.as_sent() for entry in desired]
            removals = 0
        else:
            current = {entry.id_token: entry for entry in stored.entries}
            wanted = {entry.id_token for entry in desired}
            sent = [entry.as_sent() for entry in desired if current.get(entry.id_token) != entry]
            removed = sorted(set(current) - wanted)
            sent += [LocalListEntry(id_token) for id_token in removed]
            removals = len(removed)
        answer = await self._commands.send(station_id, SendLocalList(version, ListUpdateType(update_type), tuple(sent)), requested_by)
        note = None
        if answer.status == "Accepted":
            await self._store(station_id, version, desired)
            list_version, stored_count = version, len(desired)
        else:
            list_version, stored_count = stored.version, len(stored.entries)
            if answer.status == "VersionMismatch":
                note = (
                    f"the station's list is not version {stored.version} as stored here; "
                    "send a Full update to bring it back in line"
                )
            elif answer.status == "Failed":
                note = "the station could not apply the update; nothing was stored"
            elif answer.status == "NotSupported":
                note = "the station does not support local lists"
        return LocalListUpdate(answer, update_type, version, list_version, len(sent) - removals, removals, stored_count, note)

    async def _store(self, station_id: str, version: int, entries: list[ListEntry]) -> None:
        async with self._sessions.begin() as session:
            header = await session.get(LocalAuthList, station_id)
            if header is None:
                session.add(LocalAuthList(station_id=station_id, version=version, updated_at=utcnow()))
                await session.flush()
            else:
                header.version = version
                header.updated_at = utcnow()
            await session.execute(delete(LocalAuthListEntry).where(LocalAuthListEntry.station_id == station_id))
            session.add_all(
                LocalAuthListEntry(
                    station_id=station_id,
                    id_token=entry.id_token,
                    status=entry.status,
                    expiry_date=entry.expiry_date,
                    parent_id_token=entry.parent_id_token,
                    id_token_type=entry.id_token_type,
                    parent_id_token_type=entry.parent_id_token_type,
                )
                for entry in entries
            )


def _entry(id_token: str, result: AuthorizationResult) -> ListEntry:
    return ListEntry(
        id_token, result.status, result.expiry_date, result.parent_id_token, result.id_token_type, result.parent_id_token_type
    )


def _token_type(name: str | None) -> IdTokenType | None:
    return None if name is None else IdTokenType(name)
