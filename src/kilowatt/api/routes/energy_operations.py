"""Operations OCPP 2.1 adds — tariffs, DER control, grid signals, dynamic schedules, priority
charging, allowed energy transfer, battery swaps, web payments, periodic event streams — and
what stations reported about them (settlements, DER notices and reports, stream data, swaps).

Same conventions as :mod:`kilowatt.api.routes.remote_operations`: strict bodies in the domain's
names, the station's real answer in the HTTP reply (:class:`CommandResponse`), every command
recorded. A station whose OCPP version has no such operation (1.6, 2.0.1) gets nothing sent and
the request is answered 422 ``invalid``. A body mirrors its typed command field for field, so it
becomes the command by validation (:func:`_typed`), not by a hand-written copy.

No ``from __future__ import annotations``: FastAPI reads the generated endpoints' annotations.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import Field, TypeAdapter

from kilowatt.api.auth import Principal, operator, reader
from kilowatt.api.command_answers import command_fields, response_model
from kilowatt.api.errors import error_responses
from kilowatt.api.schemas import Float, IdTokenValue, Int32, NonNegativeInt32, PositiveInt32, PrintableText, RequestBody, Text, UtcInput
from kilowatt.api.schemas import StationId as StationIdValue
from kilowatt.commands import der as d
from kilowatt.commands import energy as e
from kilowatt.commands import model as m
from kilowatt.commands import streams as s
from kilowatt.commands import tariffs as t
from kilowatt.commands.status_info import StatusInfoResult
from kilowatt.refs import TransactionRef
from kilowatt.services.battery_swaps import BatterySwapRecord
from kilowatt.services.bundle import Services
from kilowatt.services.command_service import CommandAnswer
from kilowatt.services.der import DerNotificationRecord, DerReportRecord, StoredDerControl
from kilowatt.services.dynamic_charging import PriorityChargingRecord
from kilowatt.services.event_streams import StreamData, StreamRecord
from kilowatt.services.payments import SettlementRecord
from kilowatt.services.tariffs import StoredTariff

router = APIRouter(tags=["OCPP 2.1 operations"], responses=error_responses(403, 404, 413, command=True))
reads = APIRouter(tags=["OCPP 2.1 records"], responses=error_responses(403, 404))


def _literal(members: Any) -> Any:
    return Literal[tuple(member.value for member in members)]  # type: ignore[valid-type]


@cache
def _adapter(kind: type) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def _typed(kind: type, body: RequestBody | None, **extra: Any) -> Any:
    """The typed command (or part of one) ``kind`` from a body with the same field names."""
    fields = body.model_dump(exclude_none=False) if body is not None else {}
    return _adapter(kind).validate_python(fields | extra)


# --- bodies: tariffs --------------------------------------------------------------------------------

Amount = Float
TimeOfDay = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, the station's local time")]
LocalDate = Annotated[
    str, Field(pattern=r"^[12][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$", description="YYYY-MM-DD, local")
]


class TaxRateBody(RequestBody):
    type: Text(20, min_length=1)  # type: ignore[valid-type]
    tax_pct: Amount
    stack: NonNegativeInt32 | None = None


class TariffConditionsBody(RequestBody):
    start_time_of_day: TimeOfDay | None = None
    end_time_of_day: TimeOfDay | None = None
    day_of_week: list[_literal(t.DayOfWeek)] = Field(default_factory=list, max_length=7)  # type: ignore[valid-type]
    valid_from_date: LocalDate | None = None
    valid_to_date: LocalDate | None = None
    evse_kind: _literal(t.EvseKind) | None = None  # type: ignore[valid-type]
    min_energy_wh: Amount | None = None
    max_energy_wh: Amount | None = None
    min_current_a: Amount | None = None
    max_current_a: Amount | None = None
    min_power_w: Amount | None = None
    max_power_w: Amount | None = None
    min_time_s: NonNegativeInt32 | None = None
    max_time_s: NonNegativeInt32 | None = None
    min_charging_time_s: NonNegativeInt32 | None = None
    max_charging_time_s: NonNegativeInt32 | None = None
    min_idle_time_s: NonNegativeInt32 | None = None
    max_idle_time_s: NonNegativeInt32 | None = None
    payment_brand: Text(20) | None = Field(None, description="Fixed prices only")  # type: ignore[valid-type]
    payment_recognition: Text(20) | None = Field(None, description="Fixed prices only")  # type: ignore[valid-type]


class TariffPriceBody(RequestBody):
    price: Amount = Field(description="Excluding tax: per kWh (energy), per minute (times) or fixed (fees)")
    conditions: TariffConditionsBody | None = None


class TariffComponentBody(RequestBody):
    prices: list[TariffPriceBody] = Field(min_length=1, max_length=100)
    tax_rates: list[TaxRateBody] = Field(default_factory=list, max_length=5)


class PriceBody(RequestBody):
    excl_tax: Amount | None = None
    incl_tax: Amount | None = None
    tax_rates: list[TaxRateBody] = Field(default_factory=list, max_length=5)


class MessageContentBody(RequestBody):
    content: Text(1024, min_length=1)  # type: ignore[valid-type]
    format: _literal(t.MessageFormat) = "UTF8"  # type: ignore[valid-type]
    language: Text(8) | None = None  # type: ignore[valid-type]


class TariffBody(RequestBody):
    tariff_id: PrintableText(60, min_length=1)  # type: ignore[valid-type]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217")]
    description: list[MessageContentBody] = Field(default_factory=list, max_length=10)
    valid_from: UtcInput | None = None
    energy: TariffComponentBody | None = Field(None, description="Prices per kWh")
    charging_time: TariffComponentBody | None = Field(None, description="Prices per minute")
    idle_time: TariffComponentBody | None = Field(None, description="Prices per minute")
    fixed_fee: TariffComponentBody | None = Field(None, description="Fixed prices")
    reservation_time: TariffComponentBody | None = Field(None, description="Prices per minute")
    reservation_fixed: TariffComponentBody | None = Field(None, description="Fixed prices")
    min_cost: PriceBody | None = None
    max_cost: PriceBody | None = None


class DefaultTariffBody(RequestBody):
    evse_id: NonNegativeInt32 = Field(description="0: every EVSE of the station")
    tariff: TariffBody


class GetTariffsBody(RequestBody):
    evse_id: NonNegativeInt32 = Field(0, description="0: every EVSE")


class ClearTariffsBody(RequestBody):
    tariff_ids: list[PrintableText(60, min_length=1)] = Field(
        default_factory=list, max_length=100, description="None: every tariff"
    )  # type: ignore[valid-type]
    evse_id: NonNegativeInt32 | None = None


class TransactionTariffBody(RequestBody):
    transaction_id: PositiveInt32 = Field(description="Kilowatt's transaction id (`GET /transactions`)")  # type: ignore[valid-type]
    tariff: TariffBody


# --- bodies: DER control ------------------------------------------------------------------------------

DerControlName = _literal(d.DerControlType)
DerUnitName = _literal(d.DerUnit)


class CurvePointBody(RequestBody):
    x: Float
    y: Float


class HysteresisBody(RequestBody):
    high: Float | None = None
    low: Float | None = None
    delay_s: Float | None = None
    gradient: Float | None = None


class ReactivePowerParamsBody(RequestBody):
    v_ref: Float | None = None
    autonomous_v_ref_enable: bool | None = None
    autonomous_v_ref_time_constant_s: Float | None = None


class VoltageParamsBody(RequestBody):
    hv_10min_mean_value: Float | None = None
    hv_10min_mean_trip_delay_s: Float | None = None
    power_during_cessation: Literal["Active", "Reactive"] | None = None


class DerCurveBody(RequestBody):
    priority: NonNegativeInt32
    y_unit: DerUnitName  # type: ignore[valid-type]
    points: list[CurvePointBody] = Field(min_length=1, max_length=10)
    hysteresis: HysteresisBody | None = None
    reactive_power_params: ReactivePowerParamsBody | None = None
    voltage_params: VoltageParamsBody | None = None
    response_time_s: Float | None = None
    start_time: UtcInput | None = None
    duration_s: Float | None = None


class EnterServiceBody(RequestBody):
    priority: NonNegativeInt32
    high_voltage_v: Float
    low_voltage_v: Float
    high_freq_hz: Float
    low_freq_hz: Float
    delay_s: Float | None = None
    random_delay_s: Float | None = None
    ramp_rate: Float | None = None


class FixedPowerFactorBody(RequestBody):
    priority: NonNegativeInt32
    displacement: Float
    excitation: bool
    start_time: UtcInput | None = None
    duration_s: Float | None = None


class FixedVarBody(RequestBody):
    priority: NonNegativeInt32
    setpoint: Float
    unit: DerUnitName  # type: ignore[valid-type]
    start_time: UtcInput | None = None
    duration_s: Float | None = None


class FreqDroopBody(RequestBody):
    priority: NonNegativeInt32
    over_freq_hz: Float
    under_freq_hz: Float
    over_droop: Float
    under_droop: Float
    response_time_s: Float
    start_time: UtcInput | None = None
    duration_s: Float | None = None


class GradientBody(RequestBody):
    priority: NonNegativeInt32
    gradient: Float
    soft_gradient: Float


class LimitMaxDischargeBody(RequestBody):
    priority: NonNegativeInt32
    pct_max_discharge_power: Float | None = None
    power_monitoring_must_trip: DerCurveBody | None = None
    start_time: UtcInput | None = None
    duration_s: Float | None = None


ControlId = PrintableText(36, min_length=1)


class SetDerControlBody(RequestBody):
    control_id: ControlId  # type: ignore[valid-type]
    control_type: DerControlName  # type: ignore[valid-type]
    is_default: bool
    curve: DerCurveBody | None = Field(None, description="For the curve types (VoltVar, FreqWatt, HVMustTrip, ...)")
    enter_service: EnterServiceBody | None = None
    fixed_power_factor: FixedPowerFactorBody | None = Field(None, description="FixedPFAbsorb / FixedPFInject")
    fixed_var: FixedVarBody | None = None
    freq_droop: FreqDroopBody | None = None
    gradient: GradientBody | None = Field(None, description="Gradients")
    limit_max_discharge: LimitMaxDischargeBody | None = None


class GetDerControlBody(RequestBody):
    request_id: Int32
    is_default: bool | None = None
    control_type: DerControlName | None = None  # type: ignore[valid-type]
    control_id: ControlId | None = None  # type: ignore[valid-type]


class ClearDerControlBody(RequestBody):
    is_default: bool
    control_type: DerControlName | None = None  # type: ignore[valid-type]
    control_id: ControlId | None = None  # type: ignore[valid-type]


# --- bodies: energy, payments, streams ------------------------------------------------------------------


class AfrrSignalBody(RequestBody):
    timestamp: UtcInput
    signal: Int32


class ScheduleUpdateBody(RequestBody):
    limit: Float | None = None
    limit_l2: Float | None = None
    limit_l3: Float | None = None
    discharge_limit: Annotated[float, Field(le=0, allow_inf_nan=False)] | None = None
    discharge_limit_l2: Annotated[float, Field(le=0, allow_inf_nan=False)] | None = None
    discharge_limit_l3: Annotated[float, Field(le=0, allow_inf_nan=False)] | None = None
    setpoint: Float | None = None
    setpoint_l2: Float | None = None
    setpoint_l3: Float | None = None
    setpoint_reactive: Float | None = None
    setpoint_reactive_l2: Float | None = None
    setpoint_reactive_l3: Float | None = None


class DynamicScheduleBody(RequestBody):
    charging_profile_id: Int32
    update: ScheduleUpdateBody


class PriorityChargingBody(RequestBody):
    transaction_id: PositiveInt32  # type: ignore[valid-type]
    activate: bool


class AllowedEnergyTransferBody(RequestBody):
    transaction_id: PositiveInt32  # type: ignore[valid-type]
    modes: list[_literal(e.EnergyTransferMode)] = Field(min_length=1, max_length=11)  # type: ignore[valid-type]


class BatterySwapBody(RequestBody):
    id_token: IdTokenValue
    id_token_type: PrintableText(20, min_length=1) = "Central"  # type: ignore[valid-type]
    request_id: Int32


class WebPaymentStartedBody(RequestBody):
    evse_id: NonNegativeInt32
    timeout_s: NonNegativeInt32 = Field(description="How long the station waits for the payment")


class StreamParamsBody(RequestBody):
    interval_s: NonNegativeInt32 | None = None
    values: NonNegativeInt32 | None = None


class AdjustStreamBody(RequestBody):
    stream_id: NonNegativeInt32
    params: StreamParamsBody


# --- the table ---------------------------------------------------------------------------------------------

Run = Callable[[Services, str, Any, Principal], Awaitable[CommandAnswer[Any]]]


@dataclass(frozen=True)
class Operation:
    name: str
    path: str  # under /stations/{station_id}/
    summary: str
    body: type[RequestBody] | None
    result: type[m.Result]
    run: Run


async def _transaction(services: Services, station_id: str, transaction_id: int) -> TransactionRef:
    """Our transaction id as both sides name it; 404 unless it is this station's."""
    view = await services.transactions.get(transaction_id)
    record = view.transaction
    if record.station_id != station_id:
        raise HTTPException(404, f"station {station_id!r} has no transaction {transaction_id}")
    return TransactionRef(record.id, record.station_transaction_id)


def _send(build: Callable[[Any], m.Command]) -> Run:
    async def run(services: Services, station_id: str, body: Any, who: Principal) -> CommandAnswer[Any]:
        return await services.commands.send(station_id, build(body), who.name)

    return run


async def _set_default_tariff(services: Services, station_id: str, body: DefaultTariffBody, who: Principal) -> CommandAnswer[Any]:
    command = t.SetDefaultTariff(body.evse_id, _typed(t.Tariff, body.tariff))
    return await services.tariffs.set_default(station_id, command, who.name)


async def _get_tariffs(services: Services, station_id: str, body: GetTariffsBody, who: Principal) -> CommandAnswer[Any]:
    return await services.tariffs.get(station_id, t.GetTariffs(body.evse_id), who.name)


async def _clear_tariffs(services: Services, station_id: str, body: ClearTariffsBody, who: Principal) -> CommandAnswer[Any]:
    return await services.tariffs.clear(station_id, t.ClearTariffs(tuple(body.tariff_ids), body.evse_id), who.name)


async def _transaction_tariff(
    services: Services, station_id: str, body: TransactionTariffBody, who: Principal
) -> CommandAnswer[Any]:
    transaction = await _transaction(services, station_id, body.transaction_id)
    command = t.ChangeTransactionTariff(transaction, _typed(t.Tariff, body.tariff))
    return await services.tariffs.change_for_transaction(station_id, command, who.name)


async def _set_der(services: Services, station_id: str, body: SetDerControlBody, who: Principal) -> CommandAnswer[Any]:
    return await services.der.set_control(station_id, _typed(d.SetDerControl, body), who.name)


async def _get_der(services: Services, station_id: str, body: GetDerControlBody, who: Principal) -> CommandAnswer[Any]:
    return await services.der.get_control(station_id, _typed(d.GetDerControl, body), who.name)


async def _clear_der(services: Services, station_id: str, body: ClearDerControlBody, who: Principal) -> CommandAnswer[Any]:
    return await services.der.clear_control(station_id, _typed(d.ClearDerControl, body), who.name)


async def _dynamic_schedule(services: Services, station_id: str, body: DynamicScheduleBody, who: Principal) -> CommandAnswer[Any]:
    return await services.dynamic_charging.update_schedule(station_id, _typed(e.UpdateDynamicSchedule, body), who.name)


async def _priority_charging(
    services: Services, station_id: str, body: PriorityChargingBody, who: Principal
) -> CommandAnswer[Any]:
    transaction = await _transaction(services, station_id, body.transaction_id)
    return await services.commands.send(station_id, e.UsePriorityCharging(transaction, body.activate), who.name)


async def _allowed_energy(
    services: Services, station_id: str, body: AllowedEnergyTransferBody, who: Principal
) -> CommandAnswer[Any]:
    transaction = await _transaction(services, station_id, body.transaction_id)
    modes = tuple(e.EnergyTransferMode(mode) for mode in body.modes)
    return await services.commands.send(station_id, e.NotifyAllowedEnergyTransfer(transaction, modes), who.name)


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "set_default_tariff",
        "tariffs/default",
        "Set an EVSE's default tariff (SetDefaultTariff)",
        DefaultTariffBody,
        StatusInfoResult,
        _set_default_tariff,
    ),
    Operation(
        "get_tariffs",
        "get-tariffs",
        "Ask the station which tariffs it holds (GetTariffs)",
        GetTariffsBody,
        t.GetTariffsResult,
        _get_tariffs,
    ),
    Operation(
        "clear_tariffs",
        "tariffs/clear",
        "Clear tariffs from the station (ClearTariffs)",
        ClearTariffsBody,
        t.ClearTariffsResult,
        _clear_tariffs,
    ),
    Operation(
        "change_transaction_tariff",
        "transaction-tariff",
        "Change the tariff of a running transaction (ChangeTransactionTariff)",
        TransactionTariffBody,
        StatusInfoResult,
        _transaction_tariff,
    ),
    Operation(
        "set_der_control", "der-controls", "Set a DER control (SetDERControl)", SetDerControlBody, d.SetDerControlResult, _set_der
    ),
    Operation(
        "get_der_control",
        "der-controls/get",
        "Ask for a report of DER controls (GetDERControl)",
        GetDerControlBody,
        StatusInfoResult,
        _get_der,
    ),
    Operation(
        "clear_der_control",
        "der-controls/clear",
        "Clear DER controls (ClearDERControl)",
        ClearDerControlBody,
        StatusInfoResult,
        _clear_der,
    ),
    Operation(
        "afrr_signal",
        "afrr-signal",
        "Send an aFRR activation signal (AFRRSignal)",
        AfrrSignalBody,
        StatusInfoResult,
        _send(lambda b: e.AfrrSignal(b.timestamp, b.signal)),
    ),
    Operation(
        "update_dynamic_schedule",
        "dynamic-schedule",
        "Update a dynamic charging profile's current values (UpdateDynamicSchedule)",
        DynamicScheduleBody,
        StatusInfoResult,
        _dynamic_schedule,
    ),
    Operation(
        "use_priority_charging",
        "priority-charging",
        "Switch priority charging on or off for a transaction (UsePriorityCharging)",
        PriorityChargingBody,
        StatusInfoResult,
        _priority_charging,
    ),
    Operation(
        "notify_allowed_energy_transfer",
        "allowed-energy-transfer",
        "Tell the station which energy transfer modes a transaction's EV may use (NotifyAllowedEnergyTransfer)",
        AllowedEnergyTransferBody,
        StatusInfoResult,
        _allowed_energy,
    ),
    Operation(
        "request_battery_swap",
        "battery-swap",
        "Authorise a battery swap (RequestBatterySwap)",
        BatterySwapBody,
        StatusInfoResult,
        _send(lambda b: e.RequestBatterySwap(b.id_token, b.id_token_type, b.request_id)),
    ),
    Operation(
        "notify_web_payment_started",
        "web-payment-started",
        "Tell the station a driver opened its web payment page (NotifyWebPaymentStarted)",
        WebPaymentStartedBody,
        m.EmptyResult,
        _send(lambda b: e.NotifyWebPaymentStarted(b.evse_id, b.timeout_s)),
    ),
    Operation(
        "get_periodic_event_streams",
        "get-event-streams",
        "Ask the station which periodic event streams it has open (GetPeriodicEventStream)",
        None,
        s.GetPeriodicEventStreamResult,
        _send(lambda b: s.GetPeriodicEventStream()),
    ),
    Operation(
        "adjust_periodic_event_stream",
        "event-streams/adjust",
        "Change a periodic event stream's interval or batch size (AdjustPeriodicEventStream)",
        AdjustStreamBody,
        StatusInfoResult,
        _send(lambda b: s.AdjustPeriodicEventStream(b.stream_id, _typed(s.StreamParams, b.params))),
    ),
)


def _station_id(station_id: Annotated[StationIdValue, Path(description="Station id")]) -> str:
    return station_id


StationId = Depends(_station_id)


def _services(request: Request) -> Services:
    return request.app.state.services


def _route(operation: Operation) -> None:
    if operation.body is None:

        async def endpoint(request: Request, station_id: str = StationId, who: Principal = Depends(operator)) -> Any:
            return command_fields(await operation.run(_services(request), station_id, None, who))

    else:

        async def endpoint(  # type: ignore[misc]
            request: Request,
            body: operation.body,  # type: ignore[name-defined]
            station_id: str = StationId,
            who: Principal = Depends(operator),
        ) -> Any:
            return command_fields(await operation.run(_services(request), station_id, body, who))

    endpoint.__name__ = operation.name
    router.add_api_route(
        f"/stations/{{station_id}}/{operation.path}",
        endpoint,
        methods=["POST"],
        summary=operation.summary,
        description="OCPP 2.1 only: a 1.6 or 2.0.1 station is answered 422 (invalid) and nothing is sent.",
        response_model=response_model(operation.result),
        name=operation.name,
    )


for _operation in OPERATIONS:
    _route(_operation)


# --- what is stored --------------------------------------------------------------------------------------


async def _known(request: Request, station_id: str) -> Services:
    services = _services(request)
    await services.stations.get(station_id)  # 404 for an unknown station
    return services


@reads.get(
    "/stations/{station_id}/settlements", summary="Payments the station's terminal settled", response_model=list[SettlementRecord]
)
async def settlements(
    request: Request,
    station_id: str = StationId,
    station_transaction_id: Annotated[Text(36) | None, Query(description="Only this transaction's (the station's id)")] = None,  # type: ignore[valid-type]
    who: Principal = Depends(reader),
) -> Any:
    return await (await _known(request, station_id)).payments.settlements(station_id, station_transaction_id)


@reads.get("/stations/{station_id}/tariffs", summary="Tariffs the station accepted", response_model=list[StoredTariff])
async def tariffs(request: Request, station_id: str = StationId, who: Principal = Depends(reader)) -> Any:
    return await (await _known(request, station_id)).tariffs.stored(station_id)


@reads.get(
    "/stations/{station_id}/der-controls", summary="DER controls the station accepted", response_model=list[StoredDerControl]
)
async def der_controls(request: Request, station_id: str = StationId, who: Principal = Depends(reader)) -> Any:
    return await (await _known(request, station_id)).der.controls(station_id)


@reads.get(
    "/stations/{station_id}/der-notifications",
    summary="DER alarms and controls started/stopped",
    description="Oldest first, the latest 500. A notification the station sent again (same content and timestamp, "
    "after a lost answer) is one row; the same alarm at another time is its own row.",
    response_model=list[DerNotificationRecord],
)
async def der_notifications(request: Request, station_id: str = StationId, who: Principal = Depends(reader)) -> Any:
    return await (await _known(request, station_id)).der.notifications(station_id)


@reads.get(
    "/stations/{station_id}/der-reports",
    summary="DER control reports (ReportDERControl parts)",
    description="Oldest first, the latest 500, one row per part. A part the station sent again (same requestId, tbc "
    "and controls) is one row.",
    response_model=list[DerReportRecord],
)
async def der_reports(
    request: Request,
    station_id: str = StationId,
    request_id: Annotated[Int32 | None, Query(description="Only the report of this GetDERControl")] = None,
    who: Principal = Depends(reader),
) -> Any:
    return await (await _known(request, station_id)).der.reports(station_id, request_id)


@reads.get(
    "/stations/{station_id}/event-streams", summary="Periodic event streams the station opened", response_model=list[StreamRecord]
)
async def event_streams(request: Request, station_id: str = StationId, who: Principal = Depends(reader)) -> Any:
    return await (await _known(request, station_id)).event_streams.streams(station_id)


@reads.get(
    "/stations/{station_id}/event-streams/{stream_id}/data", summary="A stream's latest data", response_model=list[StreamData]
)
async def event_stream_data(
    request: Request,
    stream_id: Annotated[NonNegativeInt32, Path()],
    station_id: str = StationId,
    who: Principal = Depends(reader),
) -> Any:
    return await (await _known(request, station_id)).event_streams.data(station_id, stream_id)


@reads.get(
    "/stations/{station_id}/battery-swaps",
    summary="Batteries swapped at the station",
    description="Oldest first, the latest 500, one row per BatterySwap message. A message the station sent again (same "
    "event type, request id, token and batteries, after a lost answer) is one row.",
    response_model=list[BatterySwapRecord],
)
async def battery_swaps(request: Request, station_id: str = StationId, who: Principal = Depends(reader)) -> Any:
    return await (await _known(request, station_id)).battery_swaps.swaps(station_id)


@reads.get(
    "/stations/{station_id}/priority-charging",
    summary="Priority charging switched on/off, as stations reported it",
    description="Oldest first, the latest 500, one row per switch: a report repeating the transaction's latest "
    "state (sent again after a lost answer) is not a new row.",
    response_model=list[PriorityChargingRecord],
)
async def priority_charging(request: Request, station_id: str = StationId, who: Principal = Depends(reader)) -> Any:
    return await (await _known(request, station_id)).dynamic_charging.priority_charging(station_id)
