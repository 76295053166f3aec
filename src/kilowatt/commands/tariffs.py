"""Tariffs a station shows and applies itself (OCPP 2.1 functional block I, "Tariffs and cost").

A :class:`Tariff` is a currency and its price components — energy (per kWh), charging time and idle
time (per minute), a fixed fee, reservation time and fee — each a list of prices with the
conditions under which each applies, plus tax rates. The CSMS sets a station's default tariff per
EVSE (:class:`SetDefaultTariff`), changes the tariff of one running transaction
(:class:`ChangeTransactionTariff`), asks which tariffs a station holds (:class:`GetTariffs`) and
clears them (:class:`ClearTariffs`). Units are in the names; money is in the tariff's currency.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from kilowatt.commands.model import Command, Result
from kilowatt.commands.status_info import StatusInfo, StatusInfoResult
from kilowatt.refs import TransactionRef


class DayOfWeek(enum.Enum):
    MONDAY = "Monday"
    TUESDAY = "Tuesday"
    WEDNESDAY = "Wednesday"
    THURSDAY = "Thursday"
    FRIDAY = "Friday"
    SATURDAY = "Saturday"
    SUNDAY = "Sunday"


class EvseKind(enum.Enum):
    AC = "AC"
    DC = "DC"


class TariffKind(enum.Enum):
    DEFAULT = "DefaultTariff"  # the EVSE's tariff for anyone without one of their own
    DRIVER = "DriverTariff"  # given to one driver (an id token) at authorization


class MessageFormat(enum.Enum):
    ASCII = "ASCII"
    HTML = "HTML"
    URI = "URI"
    UTF8 = "UTF8"
    QRCODE = "QRCODE"


@dataclass(slots=True, frozen=True)
class MessageContent:
    """A text the station shows (a tariff's description), in one language."""

    content: str
    format: MessageFormat = MessageFormat.UTF8
    language: str | None = None


@dataclass(slots=True, frozen=True)
class TaxRate:
    type: str  # e.g. "Federal", "State": printed on receipts
    tax_pct: float
    stack: int | None = None  # 0 (absent): on the net price; 1: on top of stack 0; ...


@dataclass(slots=True, frozen=True)
class TariffConditions:
    """When a price applies; every field given must hold. Times of day and dates are local to the
    station (``HH:MM``, ``YYYY-MM-DD``). Energy, current, power and time bounds apply to energy and
    time prices; ``payment_brand``/``payment_recognition`` only to fixed prices."""

    start_time_of_day: str | None = None
    end_time_of_day: str | None = None
    day_of_week: tuple[DayOfWeek, ...] = ()
    valid_from_date: str | None = None
    valid_to_date: str | None = None
    evse_kind: EvseKind | None = None
    min_energy_wh: float | None = None
    max_energy_wh: float | None = None
    min_current_a: float | None = None
    max_current_a: float | None = None
    min_power_w: float | None = None
    max_power_w: float | None = None
    min_time_s: int | None = None
    max_time_s: int | None = None
    min_charging_time_s: int | None = None
    max_charging_time_s: int | None = None
    min_idle_time_s: int | None = None
    max_idle_time_s: int | None = None
    payment_brand: str | None = None
    payment_recognition: str | None = None


@dataclass(slots=True, frozen=True)
class TariffPrice:
    """One price of a component: per kWh (energy), per minute (times) or a fixed amount (fees), excluding tax."""

    price: float
    conditions: TariffConditions | None = None


@dataclass(slots=True, frozen=True)
class TariffComponent:
    prices: tuple[TariffPrice, ...]
    tax_rates: tuple[TaxRate, ...] = ()


@dataclass(slots=True, frozen=True)
class Price:
    """A cost with and/or without tax (a tariff's minimum or maximum cost)."""

    excl_tax: float | None = None
    incl_tax: float | None = None
    tax_rates: tuple[TaxRate, ...] = ()


@dataclass(slots=True, frozen=True)
class Tariff:
    tariff_id: str
    currency: str  # ISO 4217
    description: tuple[MessageContent, ...] = ()
    valid_from: datetime | None = None
    energy: TariffComponent | None = None  # prices per kWh
    charging_time: TariffComponent | None = None  # prices per minute
    idle_time: TariffComponent | None = None  # prices per minute
    fixed_fee: TariffComponent | None = None  # fixed prices
    reservation_time: TariffComponent | None = None  # prices per minute
    reservation_fixed: TariffComponent | None = None  # fixed prices
    min_cost: Price | None = None
    max_cost: Price | None = None


@dataclass(slots=True, frozen=True)
class TariffAssignment:
    """A tariff a station holds, as it reports it (GetTariffs)."""

    tariff_id: str
    kind: TariffKind
    valid_from: datetime | None = None
    evse_ids: tuple[int, ...] = ()
    id_tokens: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class GetTariffsResult(Result):
    status: str  # Accepted | Rejected | NoTariff
    status_info: StatusInfo | None = None
    assignments: tuple[TariffAssignment, ...] = ()


@dataclass(slots=True, frozen=True)
class TariffCleared:
    status: str  # Accepted | Rejected | NoTariff
    tariff_id: str | None = None
    status_info: StatusInfo | None = None


@dataclass(slots=True, frozen=True)
class ClearTariffsResult(Result):
    """One entry per tariff asked for (or one for all); ``status`` is None: there is no overall one."""

    results: tuple[TariffCleared, ...]
    status: None = None


@dataclass(slots=True, frozen=True)
class SetDefaultTariff(Command):
    operation = "set_default_tariff"
    result = StatusInfoResult
    evse_id: int  # 0: every EVSE of the station
    tariff: Tariff


@dataclass(slots=True, frozen=True)
class GetTariffs(Command):
    operation = "get_tariffs"
    result = GetTariffsResult
    evse_id: int  # 0: every EVSE


@dataclass(slots=True, frozen=True)
class ClearTariffs(Command):
    operation = "clear_tariffs"
    result = ClearTariffsResult
    tariff_ids: tuple[str, ...] = ()  # none: every tariff
    evse_id: int | None = None


@dataclass(slots=True, frozen=True)
class ChangeTransactionTariff(Command):
    """Replace the tariff of a running transaction (named by the station's own id)."""

    operation = "change_transaction_tariff"
    result = StatusInfoResult
    transaction: TransactionRef
    tariff: Tariff


COMMANDS: tuple[type[Command], ...] = (SetDefaultTariff, GetTariffs, ClearTariffs, ChangeTransactionTariff)
RESULTS: tuple[type[Result], ...] = (GetTariffsResult, ClearTariffsResult)
