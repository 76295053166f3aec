"""``limit``/``offset`` query parameters, shared by every list route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from kilowatt.services.common import MAX_PAGE_SIZE

DEFAULT_PAGE_SIZE = 50
# Past this an offset only finds nothing; bounding it keeps the database from choking on it.
MAX_OFFSET = 2**31 - 1


@dataclass(slots=True, frozen=True)
class Pagination:
    limit: int
    offset: int


def _pagination(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1 to {MAX_PAGE_SIZE}")] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many matching items to skip")] = 0,
) -> Pagination:
    return Pagination(limit, offset)


Paginated = Annotated[Pagination, Depends(_pagination)]
