"""Charging profiles as a request carries them (SetChargingProfile, and a RemoteStart's TxProfile).

The cross-field rules are also stated in the JSON schema (``if``/``then``), so a client — or a
fuzzer — reading /openapi.json knows them: a Recurring profile needs ``recurrency_kind``, and only a
TxProfile may name a ``transaction_id``. Optional fields are omitted, not null. ``to_domain`` is the
typed :class:`~kilowatt.commands.model.ChargingProfile` a command carries. Purposes have their
OCPP 2.0.1 names (1.6 calls ChargingStationMaxProfile ChargePointMaxProfile).
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from kilowatt.api.schemas import BoundedInt, Float, Int32, NonNegativeInt32, RequestBody, UtcInput
from kilowatt.commands import model as m

Purpose = Literal["ChargingStationMaxProfile", "TxDefaultProfile", "TxProfile"]
RateUnit = Literal["A", "W"]
_OMIT = "; omit it rather than sending null"


class ChargingSchedulePeriodBody(RequestBody):
    start_period: NonNegativeInt32 = Field(description="Seconds from the start of the schedule")
    limit: Float = Field(ge=0, le=1e9, description="In the schedule's charging_rate_unit (A or W)")
    number_phases: BoundedInt(1, 3) = Field(None, description="1 to 3" + _OMIT)  # type: ignore[assignment,valid-type]


class ChargingScheduleBody(RequestBody):
    duration: NonNegativeInt32 = Field(  # type: ignore[assignment]
        None, description="Seconds; the last period lasts until the profile ends when omitted"
    )
    start_schedule: UtcInput = Field(None, description="When the schedule starts" + _OMIT)  # type: ignore[assignment]
    charging_rate_unit: RateUnit
    charging_schedule_period: list[ChargingSchedulePeriodBody] = Field(min_length=1, max_length=1000)
    min_charging_rate: Float = Field(None, ge=0, le=1e9, description="In charging_rate_unit" + _OMIT)  # type: ignore[assignment]


class ChargingProfileBody(RequestBody):
    """A charging profile (``duration`` and ``start_period`` in seconds)."""

    model_config = ConfigDict(
        json_schema_extra={
            "allOf": [
                {
                    "if": {"properties": {"charging_profile_kind": {"const": "Recurring"}}},
                    "then": {"required": ["recurrency_kind"]},
                },
                {
                    "if": {"not": {"properties": {"charging_profile_purpose": {"const": "TxProfile"}}}},
                    "then": {"not": {"required": ["transaction_id"]}},
                },
            ]
        }
    )

    charging_profile_id: Int32
    transaction_id: Int32 = Field(None, description="Only for a TxProfile" + _OMIT)  # type: ignore[assignment]
    stack_level: NonNegativeInt32
    charging_profile_purpose: Purpose
    charging_profile_kind: Literal["Absolute", "Recurring", "Relative"]
    recurrency_kind: Literal["Daily", "Weekly"] = Field(  # type: ignore[assignment]
        None, description="Required when the kind is Recurring" + _OMIT
    )
    valid_from: UtcInput = Field(None, description=_OMIT.removeprefix("; "))  # type: ignore[assignment]
    valid_to: UtcInput = Field(None, description=_OMIT.removeprefix("; "))  # type: ignore[assignment]
    charging_schedule: ChargingScheduleBody

    @model_validator(mode="after")
    def _consistent(self) -> ChargingProfileBody:
        if self.charging_profile_kind == "Recurring" and self.recurrency_kind is None:
            raise ValueError("a Recurring profile needs recurrency_kind")
        if self.transaction_id is not None and self.charging_profile_purpose != "TxProfile":
            raise ValueError("transaction_id is only for a TxProfile")
        return self

    def to_domain(self) -> m.ChargingProfile:
        schedule = self.charging_schedule
        return m.ChargingProfile(
            charging_profile_id=self.charging_profile_id,
            stack_level=self.stack_level,
            purpose=m.ChargingProfilePurpose(self.charging_profile_purpose),
            kind=m.ChargingProfileKind(self.charging_profile_kind),
            charging_schedule=m.ChargingSchedule(
                m.ChargingRateUnit(schedule.charging_rate_unit),
                tuple(m.ChargingSchedulePeriod(p.start_period, p.limit, p.number_phases) for p in schedule.charging_schedule_period),
                schedule.duration,
                schedule.start_schedule,
                schedule.min_charging_rate,
            ),
            recurrency_kind=m.RecurrencyKind(self.recurrency_kind) if self.recurrency_kind else None,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            transaction_id=self.transaction_id,
        )
