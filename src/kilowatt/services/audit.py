"""The audit log: every write made through the API — who, when, what, and how it ended.

The API's audit middleware (``kilowatt.api.audit``) decides what is recorded and removes secrets
from bodies; this service only stores and lists entries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from kilowatt.services.common import Page, from_row, paginate
from kilowatt.storage.database import SessionFactory
from kilowatt.storage.models import AuditEntry, utcnow

MAX_PATH_LENGTH = 255


@dataclass(slots=True, frozen=True)
class AuditFilter:
    principal: str | None = None
    method: str | None = None
    path_prefix: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(slots=True, frozen=True)
class AuditRecord:
    """One write made through the API: who, when, what, and how it ended."""

    id: int
    at: datetime
    principal: str
    role: str
    method: str
    path: str
    status_code: int
    body: dict[str, Any] | None


class AuditService:
    """Owns ``audit_log``."""

    def __init__(self, sessions: SessionFactory):
        self._sessions = sessions

    async def record(
        self, principal: str, role: str, method: str, path: str, status_code: int, body: Any, at: datetime | None = None
    ) -> AuditRecord:
        entry = AuditEntry(
            at=at or utcnow(),
            principal=principal[:64],
            role=role[:16],
            method=method[:8],
            path=path[:MAX_PATH_LENGTH],
            status_code=status_code,
            body=body,
        )
        async with self._sessions.begin() as session:
            session.add(entry)
        return from_row(entry, AuditRecord)

    async def list(self, limit: int = 50, offset: int = 0, where: AuditFilter | None = None) -> Page[AuditRecord]:
        """Entries newest first. ``since`` is inclusive, ``until`` exclusive."""
        where = where or AuditFilter()
        query = select(AuditEntry)
        if where.principal is not None:
            query = query.where(AuditEntry.principal == where.principal)
        if where.method is not None:
            query = query.where(AuditEntry.method == where.method.upper())
        if where.path_prefix:
            query = query.where(AuditEntry.path.startswith(where.path_prefix, autoescape=True))
        if where.since is not None:
            query = query.where(AuditEntry.at >= where.since)
        if where.until is not None:
            query = query.where(AuditEntry.at < where.until)
        async with self._sessions() as session:
            page = await paginate(session, query, [AuditEntry.at.desc(), AuditEntry.id.desc()], limit, offset)
        return page.map(lambda row: from_row(row, AuditRecord))
