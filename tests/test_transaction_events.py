"""The canonical transaction event stream, at the service: 2.0.1-shaped events (no 2.0.1 handler
exists yet), their seqNo keys, duplicates, events out of order, and 1.6 events through the same door."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from conftest import RunningCsms
from kilowatt.bus.base import Event
from kilowatt.services.transactions import (
    MeterSample,
    SeqNoKey,
    StartKey,
    TransactionEnded,
    TransactionOutcome,
    TransactionRef,
    TransactionStarted,
    TransactionUpdated,
    UnknownTransaction,
)
from kilowatt.storage.database import create_engine
from kilowatt.storage.migrate import upgrade
from kilowatt.storage.models import MeterValue, TransactionEventRecord

T0 = datetime(2030, 5, 1, 10, 0, tzinfo=timezone.utc)
STATION = "CP-20"
TX = "9f1c2b7e-5d4a-4e3b-8c21-0a6f5e4d3c2b"  # a 2.0.1 transactionId


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def register(wh: int, minutes: float, context: str = "Sample.Periodic") -> MeterSample:
    return MeterSample(at(minutes), str(wh), context=context, unit="Wh", location="Outlet", format="Raw")


# What a 2.0.1 edge will build from TransactionEvent (eventType, seqNo, transactionInfo, evse, idToken, meterValue).


def started(seq_no: int, minutes: float = 0, tx: str = TX, station: str = STATION, **fields: Any) -> TransactionStarted:
    values: dict[str, Any] = {"evse_id": 1, "connector_id": 1, "reason": "Authorized", "id_token": "TAG-20"}
    values["samples"] = (register(1000, minutes, "Transaction.Begin"),)
    values.update(fields)
    return TransactionStarted(
        station_id=station, timestamp=at(minutes), station_transaction_id=tx, key=SeqNoKey(station, tx, seq_no), **values
    )


def updated(seq_no: int, minutes: float, *samples: MeterSample, tx: str = TX, **fields: Any) -> TransactionUpdated:
    return TransactionUpdated(
        station_id=STATION, timestamp=at(minutes), station_transaction_id=tx, samples=samples,
        key=SeqNoKey(STATION, tx, seq_no), reason="MeterValuePeriodic", **fields,
    )  # fmt: skip


def ended(seq_no: int, minutes: float, wh: int = 2500, tx: str = TX, **fields: Any) -> TransactionEnded:
    return TransactionEnded(
        station_id=STATION, timestamp=at(minutes), station_transaction_id=tx, reason="EVDisconnected",
        samples=(register(wh, minutes, "Transaction.End"),), key=SeqNoKey(STATION, tx, seq_no), **fields,
    )  # fmt: skip


async def count(csms: RunningCsms, model: Any) -> int:
    async with csms.application.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


def collect(csms: RunningCsms) -> list[Event]:
    events: list[Event] = []

    async def listener(event: Event) -> None:
        if event.type.startswith("transaction.") or event.type == "meter.values":
            events.append(event)

    csms.application.bus.subscribe(listener)
    return events


async def test_2_0_1_events_in_order_make_one_transaction_with_both_ids(csms: RunningCsms) -> None:
    await csms.services.authorization.create("TAG-20")
    published = collect(csms)
    service = csms.services.transactions
    first = await service.apply(started(0, 0))
    middle = await service.apply(updated(1, 5, register(1600, 5)))
    last = await service.apply(ended(2, 10, id_token="TAG-20"))
    ref = first.ref
    assert ref is not None and ref.station_transaction_id == TX and isinstance(ref.id, int)
    assert middle.ref == ref and last.ref == ref
    assert first.authorization is not None and first.authorization.status == "Accepted"
    assert last.authorization is not None and last.authorization.status == "Accepted"  # the stop token's status
    assert (first.ended, middle.ended, last.ended, last.energy_wh) == (False, False, True, 1500)
    assert not (first.duplicate or middle.duplicate or last.duplicate)

    view = await service.get_for_station(STATION, TX)
    t = view.transaction
    assert t.ref == ref and (await service.get(ref.id)).transaction == t
    assert (t.station_id, t.evse_id, t.connector_id, t.id_token, t.id_token_status) == (STATION, 1, 1, "TAG-20", "Accepted")
    assert (t.meter_start_wh, t.meter_stop_wh, t.energy_wh) == (1000, 2500, 1500)
    assert (t.started_at, t.stopped_at, t.start_reason, t.stop_reason, t.stop_id_token) == (
        at(0), at(10), "Authorized", "EVDisconnected", "TAG-20"
    )  # fmt: skip
    assert [(m.value, m.context, m.source) for m in view.meter_values] == [
        ("1000", "Transaction.Begin", "TransactionEvent"),
        ("1600", "Sample.Periodic", "TransactionEvent"),
        ("2500", "Transaction.End", "TransactionEvent"),
    ]
    assert await count(csms, TransactionEventRecord) == 3
    assert [(e.type, e.data["transaction_id"], e.data["station_transaction_id"]) for e in published] == [
        ("transaction.started", ref.id, TX),
        ("transaction.updated", ref.id, TX),
        ("transaction.ended", ref.id, TX),
    ]
    assert published[-1].data["energy_wh"] == 1500


async def test_a_repeated_seq_no_is_answered_and_not_stored_twice(csms: RunningCsms) -> None:
    await csms.services.authorization.create("TAG-20")
    service = csms.services.transactions
    first = await service.apply(started(0, 0))
    published = collect(csms)
    again = await service.apply(started(0, 0))
    assert again == TransactionOutcome(first.ref, first.authorization, duplicate=True)
    # An Updated repeated with the same seqNo: its samples are not stored twice, even if the
    # repeat differs (the key decides, as for a charger resending from its queue).
    once = await service.apply(updated(1, 5, register(1600, 5)))
    twice = await service.apply(updated(1, 5, register(1600, 5), register(9999, 6)))
    assert twice.duplicate and not once.duplicate and twice.ref == once.ref == first.ref
    end = await service.apply(ended(2, 10))
    end_again = await service.apply(ended(2, 10, wh=7777))
    assert end_again == TransactionOutcome(first.ref, None, duplicate=True, ended=True, energy_wh=1500) and end.energy_wh == 1500
    assert await count(csms, TransactionEventRecord) == 3
    assert await count(csms, MeterValue) == 3
    assert (await csms.services.transactions.list()).total == 1
    assert [e.type for e in published] == ["transaction.updated", "transaction.ended"]  # repeats publish nothing
    # The same seqNo of another transaction, or of the same transactionId on another station, is new.
    other = await service.apply(started(0, 20, tx="other-tx"))
    elsewhere = await service.apply(started(0, 20, station="CP-21"))
    assert len({first.ref, other.ref, elsewhere.ref}) == 3 and not (other.duplicate or elsewhere.duplicate)


async def test_ended_before_started_ends_in_the_right_state(csms: RunningCsms) -> None:
    await csms.services.authorization.create("TAG-20")
    service = csms.services.transactions
    # Offline, the station's queue delivered the end first.
    end = await service.apply(ended(2, 10, offline=True))
    assert end.ref is not None and end.ended and end.ref.station_transaction_id == TX
    t = (await service.get(end.ref.id)).transaction
    assert t.stopped_at == at(10) and t.id_token is None and t.meter_start_wh is None and t.evse_id == 0
    assert t.started_at == at(10)  # the earliest time known so far
    middle = await service.apply(updated(1, 5, register(1600, 5)))
    begin = await service.apply(started(0, 0))
    assert middle.ref == begin.ref == end.ref and begin.ended and middle.ended
    assert begin.authorization is not None and begin.authorization.status == "Accepted"

    view = await service.get_for_station(STATION, TX)
    t = view.transaction
    assert (t.started_at, t.stopped_at, t.start_reason, t.stop_reason) == (at(0), at(10), "Authorized", "EVDisconnected")
    assert (t.evse_id, t.connector_id, t.id_token, t.id_token_status) == (1, 1, "TAG-20", "Accepted")
    assert (t.meter_start_wh, t.meter_stop_wh, t.energy_wh, t.active) == (1000, 2500, 1500, False)
    assert [m.value for m in view.meter_values] == ["1000", "1600", "2500"]  # by time, whatever the arrival order
    assert (await service.list(active=True)).total == 0 and (await service.list()).total == 1
    # A second Ended (a new seqNo) neither moves the end nor counts a reading taken after it.
    assert (await service.apply(ended(3, 12, wh=3000))).energy_wh == 1500
    assert (await service.get(t.id)).transaction.stopped_at == at(10)


async def test_updated_before_started_fills_in_the_start(csms: RunningCsms) -> None:
    await csms.services.authorization.create("TAG-20")
    service = csms.services.transactions
    # 2.0.1 names the EVSE only in a transaction's first event; this Updated is not the first sent.
    early = await service.apply(updated(1, 3, register(1300, 3), id_token="TAG-20"))
    assert early.ref is not None and not early.ended
    assert early.authorization is not None and early.authorization.status == "Accepted"
    t = (await service.get(early.ref.id)).transaction
    assert (t.evse_id, t.id_token, t.started_at, t.active) == (0, "TAG-20", at(3), True)
    start = await service.apply(started(0, 0, evse_id=2, connector_id=1, id_token=None, reason="CablePluggedIn"))
    assert start.ref == early.ref and start.authorization is None
    t = (await service.get(early.ref.id)).transaction
    assert (t.evse_id, t.connector_id, t.started_at, t.start_reason) == (2, 1, at(0), "CablePluggedIn")
    assert (t.id_token, t.meter_start_wh, t.active) == ("TAG-20", 1000, True)  # the token the Updated brought stays
    # An Updated after the Started with an earlier time does not move the start any more.
    await service.apply(updated(2, -5, register(1400, 4)))
    assert (await service.get(early.ref.id)).transaction.started_at == at(0)
    assert (await service.apply(ended(3, 10))).energy_wh == 1500


async def test_a_token_busy_elsewhere_is_concurrent_tx_in_2_0_1_too(csms: RunningCsms) -> None:
    await csms.services.authorization.create("TAG-20")
    service = csms.services.transactions
    first = await service.apply(started(0, 0))
    second = await service.apply(started(0, 1, tx="second", evse_id=2))
    assert first.authorization is not None and first.authorization.status == "Accepted"
    assert second.authorization is not None and second.authorization.status == "ConcurrentTx"
    # Its own transaction does not make a token busy: a later event with it is still Accepted.
    again = await service.apply(updated(1, 2, register(1100, 2), id_token="TAG-20"))
    assert again.authorization is not None and again.authorization.status == "Accepted"


async def test_1_6_events_through_the_same_door(csms: RunningCsms) -> None:
    await csms.services.authorization.create("TAG-16")
    service = csms.services.transactions
    start = TransactionStarted(
        "CP-16", 1, 1, at(0), "TAG-16", meter_start_wh=100, key=StartKey("CP-16", 1, "TAG-16", at(0))
    )
    first = await service.apply(start)
    again = await service.apply(start)
    assert first.ref is not None and first.ref.station_transaction_id is None and not first.duplicate
    assert again.duplicate and again.ref == first.ref
    assert again.authorization is not None and again.authorization.status == "Accepted"
    samples = await service.apply(TransactionUpdated("CP-16", at(1), transaction_id=first.ref.id, evse_id=1, connector_id=1, samples=(register(150, 1),)))
    assert samples.ref == first.ref
    unlinked = await service.apply(TransactionUpdated("CP-16", at(1), transaction_id=first.ref.id + 1000, evse_id=1, connector_id=1, samples=(register(1, 1),)))
    assert unlinked.ref is None
    with pytest.raises(UnknownTransaction):
        await service.apply(TransactionEnded("CP-99", at(2), transaction_id=first.ref.id, meter_stop_wh=300))
    end = await service.apply(TransactionEnded("CP-16", at(2), transaction_id=first.ref.id, meter_stop_wh=300, reason="Local"))
    repeat = await service.apply(TransactionEnded("CP-16", at(3), transaction_id=first.ref.id, meter_stop_wh=900))
    assert (end.ended, end.energy_wh, end.duplicate) == (True, 200, False)
    assert (repeat.duplicate, repeat.energy_wh) == (True, 200)
    assert await count(csms, TransactionEventRecord) == 0  # 1.6 has no seqNo: nothing recorded per event
    t = (await service.get_for_station("CP-16", str(first.ref.id))).transaction  # a 1.6 station's id is ours
    assert t.ref == TransactionRef(first.ref.id, None) and t.meter_stop_wh == 300


def test_events_refuse_keys_and_names_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        TransactionUpdated(STATION, at(0), transaction_id=1, station_transaction_id=TX, key=SeqNoKey(STATION, TX, 1))
    with pytest.raises(ValueError, match="exactly one"):
        TransactionEnded(STATION, at(0))
    with pytest.raises(ValueError, match="seqNo key must name"):
        TransactionUpdated(STATION, at(0), station_transaction_id=TX, key=SeqNoKey(STATION, "another", 1))
    with pytest.raises(ValueError, match="needs its seqNo key"):
        TransactionEnded(STATION, at(0), station_transaction_id=TX)
    with pytest.raises(ValueError, match="start key must be made"):
        TransactionStarted(STATION, 1, 1, at(0), "TAG", key=StartKey(STATION, 2, "TAG", at(0)))


async def test_the_api_finds_a_transaction_by_either_id(csms: RunningCsms, api: httpx.AsyncClient) -> None:
    await csms.services.authorization.create("TAG-20")
    service = csms.services.transactions
    ref = (await service.apply(started(0, 0))).ref
    assert ref is not None
    by_station = await api.get(f"/api/v1/stations/{STATION}/transactions/{TX}")
    assert by_station.status_code == 200, by_station.text
    body = by_station.json()
    assert (body["id"], body["station_transaction_id"], body["start_reason"], body["active"]) == (ref.id, TX, "Authorized", True)
    assert body["energy_wh"] == 0 and [m["source"] for m in body["meter_values"]] == ["TransactionEvent"]
    assert (await api.get(f"/api/v1/transactions/{ref.id}")).json() == body

    missing = await api.get(f"/api/v1/stations/CP-21/transactions/{TX}")  # the id is the station's, not global
    assert missing.status_code == 404 and missing.json() == {"detail": f"station 'CP-21' has no transaction {TX!r}"}
    # A 1.6 station knows its transaction by our id; a 2.0.1 id spelled like one of ours wins on its station.
    legacy = await service.apply(TransactionStarted("CP-16", 1, 1, at(1), "TAG-20", meter_start_wh=0))
    assert legacy.ref is not None
    assert (await api.get(f"/api/v1/stations/CP-16/transactions/{legacy.ref.id}")).json()["id"] == legacy.ref.id
    assert (await api.get(f"/api/v1/stations/{STATION}/transactions/{legacy.ref.id}")).status_code == 404
    spelled = await service.apply(started(0, 2, tx=str(legacy.ref.id), station="CP-16", id_token=None))
    assert spelled.ref is not None and spelled.ref.id != legacy.ref.id
    assert (await api.get(f"/api/v1/stations/CP-16/transactions/{legacy.ref.id}")).json()["id"] == spelled.ref.id
    for bad in ("x" * 37, "a%09b"):
        response = await api.get(f"/api/v1/stations/{STATION}/transactions/{bad}")
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["detail"][0]["loc"] == ["path", "station_transaction_id"]


async def test_migration_0005_keeps_every_meter_value_on_sqlite(tmp_path: Path) -> None:
    """Dropping NOT NULL must not copy the table: with foreign keys on, dropping the old copy
    would cascade to meter_values."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    try:
        await upgrade(engine, "0004")
        stamp = "'2030-05-01 10:00:00.000000'"
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO transactions (station_id, evse_id, connector_id, id_token, id_token_status, meter_start_wh,"
                    f" started_at, created_at, updated_at) VALUES ('CP-1', 1, 1, 'TAG-1', 'Accepted', 0, {stamp}, {stamp}, {stamp})"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO meter_values (station_id, evse_id, connector_id, transaction_id, timestamp, value, measurand, source)"
                    f" VALUES ('CP-1', 1, 1, 1, {stamp}, '5', 'Energy.Active.Import.Register', 'MeterValues')"
                )
            )
        await upgrade(engine)
        async with engine.begin() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM meter_values WHERE transaction_id = 1"))).scalar_one() == 1
            await connection.execute(  # a 2.0.1 session without token or start reading now fits
                text(f"INSERT INTO transactions (station_id, evse_id, connector_id, started_at, created_at, updated_at) VALUES ('CP-1', 0, 0, {stamp}, {stamp}, {stamp})")
            )
    finally:
        await engine.dispose()
    definition = sqlite3.connect(tmp_path / "old.db").execute("SELECT sql FROM sqlite_master WHERE name = 'transactions'").fetchone()[0]
    assert "id_token VARCHAR(36)," in definition and "uq_transactions_start" in definition
