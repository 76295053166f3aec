"""``/api/v1/audit-log``: every write made through the API, newest first. Operators and admins read it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from kilowatt.api.auth import operator
from kilowatt.api.errors import error_responses
from kilowatt.api.pagination import Paginated
from kilowatt.api.schemas import AuditEntryOut, AuditPage, PrintableText, Text, UtcInput, page_out
from kilowatt.services.audit import AuditFilter, AuditService

PrincipalName = PrintableText(64)
PathPrefix = Text(255)

router = APIRouter(prefix="/audit-log", tags=["audit log"])


def _service(request: Request) -> AuditService:
    return request.app.state.services.audit


@router.get(
    "",
    response_model=AuditPage,
    dependencies=[Depends(operator)],
    responses=error_responses(403),
    summary="The audit log",
    description="Every POST, PUT, PATCH and DELETE under /api/v1, whatever its outcome (refusals included), "
    "newest first: who (`principal`, `role`), what (`method`, `path`, `body` with secrets replaced by "
    '"***"), when (`at`) and how it ended (`status_code`). Reads are not recorded. Needs the operator role.',
)
async def list_audit_log(
    audit: Annotated[AuditService, Depends(_service)],
    page: Paginated,
    principal: Annotated[PrincipalName | None, Query(description="Only this caller (an API key's name, admin-token, ...)")] = None,
    method: Annotated[Literal["POST", "PUT", "PATCH", "DELETE"] | None, Query(description="Only this method")] = None,
    path: Annotated[
        PathPrefix | None, Query(description="Only paths starting with this, e.g. /api/v1/stations/CP-1")
    ] = None,
    since: Annotated[UtcInput | None, Query(description="Only entries at or after this time (RFC 3339 with a time zone)")] = None,
    until: Annotated[UtcInput | None, Query(description="Only entries before this time (RFC 3339 with a time zone)")] = None,
) -> AuditPage:
    result = await audit.list(
        limit=page.limit,
        offset=page.offset,
        where=AuditFilter(principal=principal, method=method, path_prefix=path, since=since, until=until),
    )
    return page_out(AuditPage, result, AuditEntryOut.model_validate)
