"""Tables of the domains OCPP 2.1 brings: payments (settlements, VAT number checks), tariffs the
stations hold, DER control (controls set, alarms, start/stop notices, reports), periodic event
streams and their data, battery swaps, priority charging, and dynamic schedule updates.

Version-agnostic like every table: a transaction is named by the station's own id
(``station_transaction_id``, which the transaction service links to ours), values carry their
units in column names, and a structure the domain keeps whole (a tariff, a DER setting, a battery
list) is a JSON object of the typed form's fields. Migration 0009 creates them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kilowatt.storage.models import Base, BigIntId, utcnow

_STATION = "stations.id"


class Settlement(Base):
    """A payment a station's terminal settled (NotifySettlement), one per PSP reference."""

    __tablename__ = "settlements"
    __table_args__ = (UniqueConstraint("station_id", "psp_ref", name="uq_settlements_station_psp_ref"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"))
    station_transaction_id: Mapped[str | None] = mapped_column(String(36), index=True)
    psp_ref: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # Settled | Canceled | Rejected | Failed
    status_info: Mapped[str | None] = mapped_column(String(500))
    amount: Mapped[float] = mapped_column(Float)
    settlement_time: Mapped[datetime]
    receipt_id: Mapped[str | None] = mapped_column(String(50))
    receipt_url: Mapped[str | None] = mapped_column(String(2000))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    vat_company: Mapped[dict[str, Any] | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class VatNumberValidation(Base):
    """A station asked whether a VAT number is valid, and what it was answered."""

    __tablename__ = "vat_number_validations"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"), index=True)
    vat_number: Mapped[str] = mapped_column(String(20))
    evse_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    reason_code: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class StationTariff(Base):
    """A tariff a station accepted: an EVSE's default (``evse_id``; 0 is every EVSE) or a running
    transaction's (``station_transaction_id``)."""

    __tablename__ = "station_tariffs"
    __table_args__ = (Index("ix_station_tariffs_station_tariff", "station_id", "tariff_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"))
    tariff_id: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16))  # Default | Transaction
    evse_id: Mapped[int | None] = mapped_column(Integer)
    station_transaction_id: Mapped[str | None] = mapped_column(String(36))
    currency: Mapped[str] = mapped_column(String(3))
    tariff: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DerControl(Base):
    """A DER control a station accepted (SetDERControl), until it is cleared."""

    __tablename__ = "der_controls"

    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"), primary_key=True)
    control_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    control_type: Mapped[str] = mapped_column(String(32))
    is_default: Mapped[bool] = mapped_column(Boolean)
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)
    setting: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DerNotification(Base):
    """A DER alarm (NotifyDERAlarm) or a control starting or stopping (NotifyDERStartStop)."""

    __tablename__ = "der_notifications"
    __table_args__ = (
        Index("ix_der_notifications_station_time", "station_id", "received_at"),
        Index("ux_der_notifications_repeat_key", "repeat_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # alarm | start_stop
    control_type: Mapped[str | None] = mapped_column(String(32))
    grid_event_fault: Mapped[str | None] = mapped_column(String(32))
    alarm_ended: Mapped[bool | None] = mapped_column(Boolean)
    control_id: Mapped[str | None] = mapped_column(String(36))
    started: Mapped[bool | None] = mapped_column(Boolean)
    superseded_ids: Mapped[dict[str, Any] | None]  # {"ids": [...]}
    extra_info: Mapped[str | None] = mapped_column(String(200))
    timestamp: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What the notification says, hashed (storage/repeats.py): sent again after a lost CALLRESULT,
    # it is not stored twice. NULL only on rows stored before migration 0015.
    repeat_key: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class DerReport(Base):
    """One part of a station's ReportDERControl (answering a GetDERControl's ``request_id``)."""

    __tablename__ = "der_reports"
    __table_args__ = (
        Index("ix_der_reports_station_request", "station_id", "request_id"),
        Index("ux_der_reports_repeat_key", "repeat_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(Integer)
    tbc: Mapped[bool] = mapped_column(Boolean, default=False)
    controls: Mapped[dict[str, Any]]  # control kind -> the controls reported, as the station reported them
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The part's content hashed (storage/repeats.py): a part sent again is not stored twice.
    repeat_key: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class EventStream(Base):
    """A periodic event stream a station opened (and maybe closed)."""

    __tablename__ = "event_streams"

    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"), primary_key=True)
    stream_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    variable_monitoring_id: Mapped[int] = mapped_column(Integer)
    interval_s: Mapped[int | None] = mapped_column(Integer)
    values: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]


class EventStreamData(Base):
    """One NotifyPeriodicEventStream: values at ``basetime`` + t seconds."""

    __tablename__ = "event_stream_data"
    __table_args__ = (Index("ix_event_stream_data_stream", "station_id", "stream_id", "basetime"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"))
    stream_id: Mapped[int] = mapped_column(Integer)
    basetime: Mapped[datetime]
    pending: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]  # {"values": [{"t": seconds after basetime, "v": value}, ...]}
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class BatterySwap(Base):
    """A battery put in or taken out of a swap station (BatterySwap)."""

    __tablename__ = "battery_swaps"
    __table_args__ = (
        Index("ix_battery_swaps_station_time", "station_id", "received_at"),
        Index("ux_battery_swaps_repeat_key", "repeat_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(20))  # BatteryIn | BatteryOut | BatteryOutTimeout
    request_id: Mapped[int] = mapped_column(Integer)
    id_token: Mapped[str] = mapped_column(String(255))
    id_token_type: Mapped[str] = mapped_column(String(20))
    batteries: Mapped[dict[str, Any]]  # {"batteries": [{evse_id, serial_number, soc_pct, soh_pct, ...}]}
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The message's content hashed (storage/repeats.py): a BatterySwap sent again is not stored twice.
    repeat_key: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class PriorityChargingEvent(Base):
    """A station reported priority charging switched on or off for a transaction."""

    __tablename__ = "priority_charging_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"), index=True)
    station_transaction_id: Mapped[str] = mapped_column(String(36))
    activated: Mapped[bool] = mapped_column(Boolean)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class DynamicScheduleUpdate(Base):
    """The last schedule update a station accepted for a dynamic charging profile: what a
    PullDynamicScheduleUpdate for that profile is answered with."""

    __tablename__ = "dynamic_schedule_updates"

    station_id: Mapped[str] = mapped_column(ForeignKey(_STATION, ondelete="CASCADE"), primary_key=True)
    charging_profile_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_update: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
