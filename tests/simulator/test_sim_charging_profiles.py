"""Which profile caps a connector: purpose, connector, stack level, schedule time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kilowatt.simulator.charging_profiles import ChargingProfile, ChargingProfiles, Kind, Purpose, SchedulePeriod

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def profile(pid: int, purpose: Purpose, limit_w: float, *, connector_id: int = 1, stack_level: int = 0, **kw: object) -> ChargingProfile:
    periods = kw.pop("periods", (SchedulePeriod(0, limit_w),))
    return ChargingProfile(pid, connector_id, stack_level, purpose, kw.pop("kind", Kind.ABSOLUTE), periods, **kw)  # type: ignore[arg-type]


def test_no_profiles_no_limit() -> None:
    assert ChargingProfiles().limit_w(1, NOW, tx_start=NOW) is None


def test_tx_profile_beats_tx_default_and_connector_beats_station_default() -> None:
    profiles = ChargingProfiles()
    profiles.install(profile(1, Purpose.TX_DEFAULT, 11_000, connector_id=0))
    assert profiles.limit_w(1, NOW, tx_start=NOW) == 11_000
    profiles.install(profile(2, Purpose.TX_DEFAULT, 7_000, connector_id=1))
    assert profiles.limit_w(1, NOW, tx_start=NOW) == 7_000
    assert profiles.limit_w(2, NOW, tx_start=NOW) == 11_000
    profiles.install(profile(3, Purpose.TX, 3_000, connector_id=1))
    assert profiles.limit_w(1, NOW, tx_start=NOW) == 3_000
    assert profiles.limit_w(1, NOW, tx_start=None) == 7_000  # a TxProfile needs a transaction


def test_highest_stack_level_in_force_wins() -> None:
    profiles = ChargingProfiles()
    profiles.install(profile(1, Purpose.TX_DEFAULT, 11_000, stack_level=0))
    profiles.install(profile(2, Purpose.TX_DEFAULT, 4_000, stack_level=2, valid_to=NOW - timedelta(minutes=1)))
    assert profiles.limit_w(1, NOW, tx_start=NOW) == 11_000  # level 2 expired
    profiles.install(profile(3, Purpose.TX_DEFAULT, 5_000, stack_level=1))
    assert profiles.limit_w(1, NOW, tx_start=NOW) == 5_000


def test_charge_point_max_caps_everything_and_is_shared() -> None:
    profiles = ChargingProfiles()
    profiles.install(profile(1, Purpose.CHARGE_POINT_MAX, 20_000, connector_id=0))
    profiles.install(profile(2, Purpose.TX_DEFAULT, 15_000, connector_id=0))
    assert profiles.limit_w(1, NOW, tx_start=NOW, sharing_connectors=1) == 15_000
    assert profiles.limit_w(1, NOW, tx_start=NOW, sharing_connectors=2) == 10_000


def test_relative_schedule_follows_the_transaction_start() -> None:
    periods = (SchedulePeriod(0, 11_000), SchedulePeriod(600, 3_000))
    profiles = ChargingProfiles()
    profiles.install(profile(1, Purpose.TX_DEFAULT, 0, kind=Kind.RELATIVE, periods=periods, duration_s=3600))
    assert profiles.limit_w(1, NOW, tx_start=NOW - timedelta(minutes=5)) == 11_000
    assert profiles.limit_w(1, NOW, tx_start=NOW - timedelta(minutes=15)) == 3_000
    assert profiles.limit_w(1, NOW, tx_start=NOW - timedelta(hours=2)) is None  # schedule over


def test_recurring_daily_schedule_wraps() -> None:
    periods = (SchedulePeriod(0, 2_000), SchedulePeriod(8 * 3600, 11_000))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    profiles = ChargingProfiles()
    profiles.install(profile(1, Purpose.TX_DEFAULT, 0, kind=Kind.RECURRING, periods=periods, start=start, recurrency_days=1))
    assert profiles.limit_w(1, NOW, tx_start=NOW) == 11_000  # 12:00
    assert profiles.limit_w(1, NOW.replace(hour=3), tx_start=NOW) == 2_000


def test_install_replaces_same_id_and_same_slot_and_clear_filters() -> None:
    profiles = ChargingProfiles()
    profiles.install(profile(1, Purpose.TX_DEFAULT, 11_000))
    profiles.install(profile(1, Purpose.TX_DEFAULT, 9_000))
    profiles.install(profile(2, Purpose.TX_DEFAULT, 8_000))  # same connector, purpose, level: replaces 1
    assert len(profiles) == 1 and profiles.limit_w(1, NOW, tx_start=NOW) == 8_000
    profiles.install(profile(3, Purpose.CHARGE_POINT_MAX, 30_000, connector_id=0))
    assert profiles.clear(purpose=Purpose.TX) == 0
    assert profiles.clear(connector_id=1) == 1
    assert profiles.clear() == 1
    assert len(profiles) == 0


def test_tx_profile_ends_with_its_transaction() -> None:
    profiles = ChargingProfiles()
    profiles.install(profile(1, Purpose.TX, 3_000, transaction_id=7))
    profiles.install(profile(2, Purpose.TX_DEFAULT, 9_000))
    profiles.end_transaction(7, 1)
    assert [p.profile_id for p in profiles] == [2]
