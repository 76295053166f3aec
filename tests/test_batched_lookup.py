"""Coalesced look-ups: concurrent handshakes share one query, and each gets its own station's row."""

from __future__ import annotations

import asyncio

import pytest

from charger import TestCharger
from kilowatt.storage.lookup import BatchedLookup


async def test_concurrent_handshakes_share_queries_and_get_their_own_rows(make_csms) -> None:
    csms = await make_csms()
    stations = csms.services.stations
    for i in range(40):
        await stations.create(f"CP-{i}", password=f"password-of-station-{i:02d}" if i % 2 else None)
    lookup = stations._admissions
    before = lookup.queries
    admissions = await asyncio.gather(*(stations.admission(f"CP-{i}") for i in range(40)), stations.admission("CP-404"))
    assert lookup.queries - before < 10  # 41 look-ups, a handful of queries
    assert admissions[-1] is None  # unknown stations are refused (policy reject)
    for i, admission in enumerate(admissions[:-1]):
        assert admission is not None and admission.station_id == f"CP-{i}"
        assert (admission.password_hash is not None) == bool(i % 2)
    # and over real sockets: a burst of chargers all get in, each with its own password
    async def boot(i: int) -> str:
        base = csms.ocpp_url.replace("ws://", f"ws://CP-{i}:password-of-station-{i:02d}@") if i % 2 else csms.ocpp_url
        async with TestCharger.connect(base, f"CP-{i}") as charger:
            return (await charger.boot())["status"]

    assert await asyncio.gather(*(boot(i) for i in range(40))) == ["Accepted"] * 40


async def test_a_key_that_fails_its_query_fails_only_its_own_waiters() -> None:
    calls: list[list[str]] = []

    async def fetch_many(keys: list[str]) -> dict[str, int]:
        calls.append(keys)
        if "bad" in keys:
            raise RuntimeError("the database refused this key")
        return {key: len(key) for key in keys}

    lookup: BatchedLookup[str, int] = BatchedLookup(fetch_many)
    first = await asyncio.gather(lookup.get("bad"), lookup.get("x"), lookup.get("bad"), return_exceptions=True)
    assert isinstance(first[0], RuntimeError) and isinstance(first[2], RuntimeError)
    assert first[1] == 1  # it shared the failed query, and was asked again on its own
    assert calls == [["bad", "x"], ["bad"], ["x"]]
    assert await asyncio.gather(lookup.get("abc"), lookup.get("abc"), lookup.get("zz")) == [3, 3, 2]
    assert calls[-1] == ["abc", "zz"]  # one query, each key once
    with pytest.raises(RuntimeError):
        await lookup.get("bad")
    assert await lookup.get("ok") == 2  # the lookup still works afterwards


async def test_an_id_token_the_database_refuses_fails_no_other_station(csms) -> None:
    """On PostgreSQL a NUL in a text parameter fails the whole ``IN (...)`` query it is in. The
    gateway refuses NUL before it gets here; this is the second line of defence."""
    authorization = csms.services.authorization
    await authorization.create("GOOD-1")
    results = await asyncio.gather(
        *(authorization.authorize(token) for token in ("EVIL\x00", "GOOD-1", "UNKNOWN-1", "GOOD-1")), return_exceptions=True
    )
    good = results[1:]
    assert [getattr(result, "status", result) for result in good] == ["Accepted", "Invalid", "Accepted"]
