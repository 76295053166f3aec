"""``/api/v1/api-keys``: bearer keys with a role, managed by admins. A key is shown once, at creation."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from kilowatt.api.auth import Principal, admin
from kilowatt.api.errors import error_responses
from kilowatt.api.links import location
from kilowatt.api.pagination import Paginated
from kilowatt.api.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, ApiKeyPage, DbId, page_out
from kilowatt.services.api_keys import ApiKeyService

router = APIRouter(prefix="/api-keys", tags=["API keys"])

Admin = Annotated[Principal, Depends(admin)]
KeyId = Annotated[DbId, Path(description="The key's id (not the key)")]


def _service(request: Request) -> ApiKeyService:
    return request.app.state.services.api_keys


Keys = Annotated[ApiKeyService, Depends(_service)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreated,
    responses=error_responses(403, 409, 413),
    summary="Create an API key",
    description="Answers the key in `key` — this once: only its SHA-256 is stored, so a lost key cannot be shown "
    "again (revoke it and create another). Send it as `Authorization: Bearer <key>`. A `name` used by "
    "another active key answers 409.",
)
async def create_api_key(body: ApiKeyCreate, keys: Keys, who: Admin, response: Response) -> ApiKeyCreated:
    created = await keys.create(body.name, body.role, created_by=who.name)
    response.headers["Location"] = location("/api/v1/api-keys", created.api_key.id)
    return ApiKeyCreated.model_validate({**ApiKeyOut.model_validate(created.api_key).model_dump(), "key": created.key})


@router.get(
    "",
    response_model=ApiKeyPage,
    responses=error_responses(403),
    summary="List API keys",
    description="Keys oldest first, revoked ones included unless `revoked=false`. Never the key or its hash: "
    "`prefix` tells them apart.",
)
async def list_api_keys(
    keys: Keys,
    who: Admin,
    page: Paginated,
    revoked: Annotated[bool | None, Query(description="true: only revoked keys; false: only active ones")] = None,
) -> ApiKeyPage:
    result = await keys.list(limit=page.limit, offset=page.offset, revoked=revoked)
    return page_out(ApiKeyPage, result, ApiKeyOut.model_validate)


@router.get(
    "/{key_id}",
    response_model=ApiKeyOut,
    responses=error_responses(403, 404),
    summary="Get an API key",
    description="The key's record (never the key or its hash).",
)
async def get_api_key(key_id: KeyId, keys: Keys, who: Admin) -> ApiKeyOut:
    return ApiKeyOut.model_validate(await keys.get(key_id))


@router.delete(
    "/{key_id}",
    response_model=ApiKeyOut,
    responses=error_responses(403, 404, 413),
    summary="Revoke an API key",
    description="The key is refused (401) from the next request on. Its record stays, with `revoked_at`, so the "
    "audit log's names keep their meaning; revoking it again changes nothing.",
)
async def revoke_api_key(key_id: KeyId, keys: Keys, who: Admin) -> ApiKeyOut:
    return ApiKeyOut.model_validate(await keys.revoke(key_id))
