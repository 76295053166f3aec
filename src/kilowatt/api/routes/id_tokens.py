"""``/api/v1/id-tokens``: the identifiers drivers present (RFID cards, app ids) and their authorization state."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from kilowatt.api.auth import operator, reader
from kilowatt.api.errors import error_responses
from kilowatt.api.links import location
from kilowatt.api.pagination import Paginated
from kilowatt.api.schemas import (
    IdTokenCreate,
    IdTokenOut,
    IdTokenPage,
    IdTokenStatus,
    IdTokenUpdate,
    IdTokenValue,
    PersonalMessageBody,
    page_out,
)
from kilowatt.services.authorization import AuthorizationService, PersonalMessage

router = APIRouter(prefix="/id-tokens", tags=["id tokens"])

READ = [Depends(reader)]
WRITE = [Depends(operator)]  # operators manage who may charge

_AUTHORIZATION_RULES = (
    "A station asking about a token gets its `status`; an Accepted token past its `expiry_date` is answered "
    "Expired, and one whose parent (group) is Blocked is answered Blocked. An OCPP 2.0.1/2.1 station presents a "
    "token with a `type`: only the registered `type` matches (the same value with another type is answered "
    "Unknown, as an unregistered token); OCPP 1.6 id tags have no type and match by value. 2.0.1/2.1 answers "
    "also carry the group with its type, the expiry as cacheExpiryDateTime and the `personal_message`. OCPP 1.6 "
    "stations can only present id tags of up to 20 characters; longer tokens (up to 36) are for OCPP 2.0.1 stations. "
    "Id tokens are case insensitive (OCPP): a station, this path and `parent_id_token` may name a token in any case, "
    "and it is shown as registered."
)


def _message(body: PersonalMessageBody | None) -> PersonalMessage | None:
    return None if body is None else PersonalMessage(body.format, body.content, body.language)


def _service(request: Request) -> AuthorizationService:
    return request.app.state.services.authorization


Tokens = Annotated[AuthorizationService, Depends(_service)]
IdTokenPath = Annotated[IdTokenValue, Path(description="The id token, percent-encoded in the URL ('/' may be sent as-is or as %2F)")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=IdTokenOut,
    dependencies=WRITE,
    responses=error_responses(403, 409, 413),
    summary="Create an id token",
    description="Register an id token. `parent_id_token` must name an existing token (422 otherwise); "
    "a duplicate `id_token` (also one differing only in case) answers 409. " + _AUTHORIZATION_RULES,
)
async def create_id_token(body: IdTokenCreate, tokens: Tokens, response: Response) -> IdTokenOut:
    token = await tokens.create(
        body.id_token,
        status=body.status,
        type=body.type,
        expiry_date=body.expiry_date,
        parent_id_token=body.parent_id_token,
        personal_message=_message(body.personal_message),
    )
    response.headers["Location"] = location("/api/v1/id-tokens", body.id_token)
    return IdTokenOut.model_validate(token)


@router.get(
    "",
    response_model=IdTokenPage,
    dependencies=READ,
    responses=error_responses(),
    summary="List id tokens",
    description="Id tokens ordered by `id_token`; filter by stored `status` and by group (`parent_id_token`).",
)
async def list_id_tokens(
    tokens: Tokens,
    page: Paginated,
    status: Annotated[IdTokenStatus | None, Query(description="Only tokens with this stored status")] = None,
    parent_id_token: Annotated[IdTokenValue | None, Query(description="Only members of this group")] = None,
) -> IdTokenPage:
    result = await tokens.list(limit=page.limit, offset=page.offset, status=status, parent_id_token=parent_id_token)
    return page_out(IdTokenPage, result, IdTokenOut.model_validate)


@router.get(
    "/{id_token:path}",
    response_model=IdTokenOut,
    dependencies=READ,
    responses=error_responses(404),
    summary="Get an id token",
    description="The token as stored. " + _AUTHORIZATION_RULES,
)
async def get_id_token(id_token: IdTokenPath, tokens: Tokens) -> IdTokenOut:
    return IdTokenOut.model_validate(await tokens.get(id_token))


@router.patch(
    "/{id_token:path}",
    response_model=IdTokenOut,
    dependencies=WRITE,
    responses=error_responses(403, 404, 413),
    summary="Change an id token",
    description="Only the fields sent change: e.g. `{\"status\": \"Blocked\"}` blocks a card. `expiry_date: null`, "
    "`parent_id_token: null` and `personal_message: null` clear them; `status` and `type` cannot be null. "
    "A `parent_id_token` must "
    "name an existing token other than this one (422 otherwise).",
)
async def update_id_token(id_token: IdTokenPath, body: IdTokenUpdate, tokens: Tokens) -> IdTokenOut:
    changes = body.model_dump(include=body.model_fields_set)
    if "personal_message" in changes:
        changes["personal_message"] = _message(body.personal_message)
    return IdTokenOut.model_validate(await tokens.update(id_token, **changes))


@router.delete(
    "/{id_token:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    dependencies=WRITE,
    responses=error_responses(403, 404, 413),
    summary="Delete an id token",
    description="Stations asking about it from now on get Invalid. Transactions that used it are kept.",
)
async def delete_id_token(id_token: IdTokenPath, tokens: Tokens) -> Response:
    await tokens.delete(id_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
