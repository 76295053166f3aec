"""Smart charging limits a station applies: which installed profile caps a connector right now.

Version-agnostic: each protocol adapter turns its own profile message into a
:class:`ChargingProfile` with limits already in watts, and this module answers one question —
"what may this connector draw now?". The rules are OCPP's (1.6 section 3.13, 2.0.1 K): a TxProfile
beats a TxDefaultProfile, a profile on the connector beats one on connector 0, the highest stack
level in force wins, and the station-wide ChargePointMaxProfile caps everything, shared among the
connectors that are charging.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime


class Purpose(str, enum.Enum):
    CHARGE_POINT_MAX = "ChargePointMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class Kind(str, enum.Enum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    start_s: int  # offset from the schedule's start
    limit_w: float


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """One installed profile; ``connector_id`` 0 means the whole station."""

    profile_id: int
    connector_id: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    periods: tuple[SchedulePeriod, ...]
    start: datetime | None = None  # startSchedule (Absolute, Recurring)
    duration_s: int | None = None
    recurrency_days: int | None = None  # 1 (Daily) or 7 (Weekly) for Recurring
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: int | str | None = None  # TxProfile bound to one transaction

    def limit_w(self, now: datetime, tx_start: datetime | None) -> float | None:
        """The limit this profile sets at ``now``, or ``None`` when it is not in force."""
        if (self.valid_from and now < self.valid_from) or (self.valid_to and now >= self.valid_to):
            return None
        if self.kind is Kind.RELATIVE:
            start = tx_start or now
        else:
            start = self.start or self.valid_from or tx_start or now
        elapsed_s = (now - start).total_seconds()
        if self.kind is Kind.RECURRING and self.recurrency_days and elapsed_s >= 0:
            elapsed_s %= self.recurrency_days * 86400
        if elapsed_s < 0 or (self.duration_s is not None and elapsed_s >= self.duration_s):
            return None
        limit_w: float | None = None
        for period in self.periods:  # sorted by start_s
            if period.start_s > elapsed_s:
                break
            limit_w = period.limit_w
        return limit_w


class ChargingProfiles:
    """The profiles installed on one station."""

    __slots__ = ("_profiles",)

    def __init__(self) -> None:
        self._profiles: dict[int, ChargingProfile] = {}

    def __len__(self) -> int:
        return len(self._profiles)

    def __iter__(self) -> Iterator[ChargingProfile]:
        return iter(self._profiles.values())

    def install(self, profile: ChargingProfile) -> None:
        """Add ``profile``; it replaces one with the same id, or the same connector, purpose and stack level."""
        for key, other in list(self._profiles.items()):
            if key == profile.profile_id or (
                other.connector_id == profile.connector_id
                and other.purpose is profile.purpose
                and other.stack_level == profile.stack_level
            ):
                del self._profiles[key]
        self._profiles[profile.profile_id] = profile

    def clear(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: Purpose | None = None,
        stack_level: int | None = None,
    ) -> int:
        """Remove the matching profiles (all of them when nothing is given); returns how many."""
        doomed = [
            key
            for key, p in self._profiles.items()
            if (profile_id is None or key == profile_id)
            and (connector_id is None or p.connector_id == connector_id)
            and (purpose is None or p.purpose is purpose)
            and (stack_level is None or p.stack_level == stack_level)
        ]
        for key in doomed:
            del self._profiles[key]
        return len(doomed)

    def end_transaction(self, transaction_id: int | str | None, connector_id: int) -> None:
        """A TxProfile dies with its transaction."""
        self._profiles = {
            key: p
            for key, p in self._profiles.items()
            if not (p.purpose is Purpose.TX and (p.connector_id == connector_id or p.transaction_id == transaction_id))
        }

    def limit_w(
        self,
        connector_id: int,
        now: datetime,
        *,
        tx_start: datetime | None = None,
        transaction_id: int | str | None = None,
        sharing_connectors: int = 1,
    ) -> float | None:
        """What ``connector_id`` may draw now; ``None`` when no profile limits it."""
        if not self._profiles:
            return None
        tx_limit: float | None = None
        if tx_start is not None:
            tx_limit = self._best(
                (
                    p
                    for p in self._profiles.values()
                    if p.purpose is Purpose.TX
                    and p.connector_id == connector_id
                    and (p.transaction_id is None or p.transaction_id == transaction_id)
                ),
                now,
                tx_start,
            )
        if tx_limit is None:
            for where in (connector_id, 0):
                tx_limit = self._best(
                    (p for p in self._profiles.values() if p.purpose is Purpose.TX_DEFAULT and p.connector_id == where),
                    now,
                    tx_start,
                )
                if tx_limit is not None:
                    break
        station_limit = self._best(
            (p for p in self._profiles.values() if p.purpose is Purpose.CHARGE_POINT_MAX), now, tx_start
        )
        if station_limit is not None:
            share_w = station_limit / max(1, sharing_connectors)
            return share_w if tx_limit is None else min(tx_limit, share_w)
        return tx_limit

    @staticmethod
    def _best(candidates: Iterable[ChargingProfile], now: datetime, tx_start: datetime | None) -> float | None:
        """The limit of the highest stack level in force among ``candidates``."""
        best_level = -1
        best_limit: float | None = None
        for profile in candidates:
            if profile.stack_level <= best_level:
                continue
            limit_w = profile.limit_w(now, tx_start)
            if limit_w is not None:
                best_level, best_limit = profile.stack_level, limit_w
        return best_limit
