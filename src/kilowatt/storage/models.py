"""The tables. Version-agnostic: a station has EVSEs, an EVSE has connectors.

OCPP 1.6 connector N (N > 0) is stored as EVSE N with connector 1; 1.6 connector 0 (the station as a
whole) is EVSE 0, connector 0. A transaction keeps the station's own transaction id (a string in
2.0.1) beside our integer id (which is the 1.6 transactionId). All timestamps are UTC.

Ownership: ``stations``/``connectors``/``status_notifications``/``station_events``/``data_transfers``
belong to the station service, ``id_tokens`` to the authorization service, ``transactions``,
``transaction_events`` and ``meter_values`` to the transaction service. No service queries another's tables.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is stored and returned as UTC, whatever the backend does with time zones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; Kilowatt stores UTC only")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class JSONObject(TypeDecorator[dict[str, Any]]):
    """A JSON column that holds an object (or NULL), nothing else.

    A JSON scalar does not survive SQLite: its JSON column has NUMERIC affinity, so the text ``7``
    is stored as the integer 7 and ``1e300`` as a REAL, which the JSON reader then cannot read —
    PostgreSQL gives back what it was given. An object reads back identically on both, so that
    is all these columns accept; a caller with a scalar wraps it (the audit log records a scalar
    body as ``{"json": value}``).
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> dict[str, Any] | None:
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"a JSON column holds an object or NULL, not {type(value).__name__}")
        return value


# Integer ids that autoincrement on both SQLite (INTEGER PRIMARY KEY) and PostgreSQL (BIGSERIAL).
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONObject()}


class Station(Base):
    __tablename__ = "stations"

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    registration_status: Mapped[str] = mapped_column(String(16), default="Accepted")  # Accepted | Pending | Rejected
    ocpp_version: Mapped[str | None] = mapped_column(String(16))
    pinned_ocpp_version: Mapped[str | None] = mapped_column(String(16))  # set by the operator: the only version admitted
    vendor: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(50))
    serial_number: Mapped[str | None] = mapped_column(String(50))  # chargePointSerialNumber
    charge_box_serial_number: Mapped[str | None] = mapped_column(String(50))
    firmware_version: Mapped[str | None] = mapped_column(String(50))
    iccid: Mapped[str | None] = mapped_column(String(20))
    imsi: Mapped[str | None] = mapped_column(String(20))
    meter_type: Mapped[str | None] = mapped_column(String(25))
    meter_serial_number: Mapped[str | None] = mapped_column(String(25))
    firmware_status: Mapped[str | None] = mapped_column(String(40))
    diagnostics_status: Mapped[str | None] = mapped_column(String(40))
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    node_id: Mapped[str | None] = mapped_column(String(64))  # which gateway node holds the socket
    last_boot_at: Mapped[datetime | None]
    last_heartbeat_at: Mapped[datetime | None]
    last_seen: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Connector(Base):
    """Current status of one connector (EVSE 0 / connector 0 is the station itself)."""

    __tablename__ = "connectors"

    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str | None] = mapped_column(String(32))  # the station's own word (1.6 ChargePointStatus, 2.0.1 ConnectorStatus)
    connector_status: Mapped[str | None] = mapped_column(String(16))  # version-neutral: 2.0.1 ConnectorStatusEnum
    charging_state: Mapped[str | None] = mapped_column(String(16))  # version-neutral: 2.0.1 ChargingStateEnum, None when idle
    error_code: Mapped[str | None] = mapped_column(String(32))
    info: Mapped[str | None] = mapped_column(String(50))
    vendor_id: Mapped[str | None] = mapped_column(String(255))
    vendor_error_code: Mapped[str | None] = mapped_column(String(50))
    status_at: Mapped[datetime | None]  # the station's timestamp of this status
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StatusNotification(Base):
    """History of every status a station reported."""

    __tablename__ = "status_notifications"
    __table_args__ = (
        Index("ix_status_notifications_station_time", "station_id", "received_at"),
        Index("ux_status_notifications_repeat_key", "repeat_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(32))
    info: Mapped[str | None] = mapped_column(String(50))
    vendor_id: Mapped[str | None] = mapped_column(String(255))
    vendor_error_code: Mapped[str | None] = mapped_column(String(50))
    timestamp: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The message's content hashed (storage/repeats.py), when it carries a timestamp: the same
    # notification sent again after a lost CALLRESULT is not stored twice. NULL: no timestamp, no key.
    repeat_key: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class StationEvent(Base):
    """Notifications about long-running station work: firmware, diagnostics, logs, security events."""

    __tablename__ = "station_events"
    __table_args__ = (
        Index("ix_station_events_station_kind", "station_id", "kind", "received_at"),
        Index("ux_station_events_repeat_key", "repeat_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # firmware | diagnostics | log | signed_firmware | security
    status: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict[str, Any] | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A security event's content hashed (storage/repeats.py; it has a timestamp): sent again after a
    # lost CALLRESULT, it is not stored or alerted on twice. NULL for the other kinds (no timestamp).
    repeat_key: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class DataTransferRecord(Base):
    """Every DataTransfer, in either direction, with the answer given."""

    __tablename__ = "data_transfers"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # "inbound" (station->CSMS) | "outbound"
    vendor_id: Mapped[str] = mapped_column(String(255))
    message_id: Mapped[str | None] = mapped_column(String(50))
    data: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    response_data: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


def id_token_key(id_token: str) -> str:
    """The one form an id token is matched by: OCPP says an IdToken is case insensitive.

    The token itself is stored and shown as registered (or as a station sent it); look-ups,
    uniqueness and ConcurrentTx compare this key (``casefold``: Unicode's caseless matching, so
    "ABCD1234", "abcd1234" and "AbCd1234" are one card). Computed here, never by the database, so
    SQLite and PostgreSQL agree. A casefolded string may be longer than the original ("ß" -> "ss"),
    hence the key columns' room.
    """
    return id_token.casefold()


class IdToken(Base):
    """An identifier a driver presents (RFID card, app id...), with its authorization state."""

    __tablename__ = "id_tokens"
    __table_args__ = (UniqueConstraint("key", name="uq_id_tokens_key"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    id_token: Mapped[str] = mapped_column(String(36), unique=True)
    # id_token_key(id_token): two tokens that differ only in case are the same token.
    key: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20), default="ISO14443")  # 2.0.1 IdTokenEnumType
    status: Mapped[str] = mapped_column(String(16), default="Accepted")  # Accepted | Blocked | Expired | Invalid
    expiry_date: Mapped[datetime | None]
    parent_id_token: Mapped[str | None] = mapped_column(String(36), index=True)  # group
    # What the station shows the driver with an answer about this token (2.0.1 IdTokenInfoType
    # personalMessage, a MessageContentType): all three NULL, or format and content set.
    personal_message_format: Mapped[str | None] = mapped_column(String(8))  # MessageFormatEnumType
    personal_message_language: Mapped[str | None] = mapped_column(String(8))  # RFC 5646
    personal_message_content: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Transaction(Base):
    """A charging session, whichever protocol version reported it."""

    __tablename__ = "transactions"
    __table_args__ = (
        # A charger retrying the same StartTransaction must get the same id (OCPP 1.6 idempotency).
        UniqueConstraint("station_id", "evse_id", "id_token", "started_at", name="uq_transactions_start"),
        UniqueConstraint("station_id", "station_transaction_id", name="uq_transactions_station_tx"),
        Index("ix_transactions_active", "station_id", "stopped_at"),
        Index("ix_transactions_id_token", "id_token"),
        Index("ix_transactions_id_token_key", "id_token_key", "stopped_at"),
        Index("ix_transactions_remote_start", "station_id", "remote_start_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    station_transaction_id: Mapped[str | None] = mapped_column(String(36))  # 2.0.1's transactionId; NULL for 1.6
    # NULL until an event names them: a 2.0.1 session may start without a token (cable plugged in)
    # and has no meterStart, and its Ended may arrive before its Started.
    id_token: Mapped[str | None] = mapped_column(String(255))  # 255: OCPP 2.1's IdToken
    # id_token_key(id_token), for ConcurrentTx: the same card in any case. NULL on transactions
    # that had ended before migration 0016 (only open ones are ever asked about).
    id_token_key: Mapped[str | None] = mapped_column(String(1024))
    id_token_status: Mapped[str | None] = mapped_column(String(16))  # the authorization answer given for id_token
    reservation_id: Mapped[int | None] = mapped_column(Integer)
    meter_start_wh: Mapped[int | None] = mapped_column(BigInteger)
    meter_stop_wh: Mapped[int | None] = mapped_column(BigInteger)
    energy_wh: Mapped[int | None] = mapped_column(BigInteger)  # set at stop; survives meter resets
    started_at: Mapped[datetime]  # the earliest event's time until the start itself is known
    stopped_at: Mapped[datetime | None]
    start_reason: Mapped[str | None] = mapped_column(String(32))  # 2.0.1 triggerReason of the Started event
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    stop_id_token: Mapped[str | None] = mapped_column(String(255))
    # What 2.0.1 TransactionEvents tell beyond 1.6 (1.6: charging_state follows StatusNotification).
    charging_state: Mapped[str | None] = mapped_column(String(16))  # ChargingStateEnum, as last reported
    trigger_reason: Mapped[str | None] = mapped_column(String(32))  # of the last event
    remote_start_id: Mapped[int | None] = mapped_column(Integer)  # links the RequestStartTransaction that caused it
    number_of_phases_used: Mapped[int | None] = mapped_column(Integer)
    cable_max_current_a: Mapped[int | None] = mapped_column(Integer)
    id_token_type: Mapped[str | None] = mapped_column(String(20))  # IdTokenEnumType of id_token
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # any event sent while offline
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class TransactionEventRecord(Base):
    """One OCPP 2.0.1 TransactionEvent, stored once by its idempotency key (station, transactionId, seqNo).

    1.6 messages have no such key and are not recorded here: a 1.6 start is idempotent by the
    transactions table's own ``uq_transactions_start``, a stop by the transaction being stopped.
    """

    __tablename__ = "transaction_events"
    __table_args__ = (
        UniqueConstraint("station_id", "station_transaction_id", "seq_no", name="uq_transaction_events_seq"),
        Index("ix_transaction_events_transaction", "transaction_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    station_transaction_id: Mapped[str] = mapped_column(String(36))
    seq_no: Mapped[int] = mapped_column(BigInteger)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(8))  # Started | Updated | Ended
    timestamp: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(String(32))  # triggerReason, or stoppedReason for Ended
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class MeterValue(Base):
    """One sampled value, with everything needed to draw an energy or power curve later."""

    __tablename__ = "meter_values"
    __table_args__ = (
        Index("ix_meter_values_transaction", "transaction_id", "timestamp"),
        Index("ix_meter_values_station", "station_id", "timestamp"),
        Index("ux_meter_values_repeat_key", "repeat_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[int | None] = mapped_column(ForeignKey("transactions.id", ondelete="CASCADE"))
    timestamp: Mapped[datetime]
    value: Mapped[str] = mapped_column(Text)  # as sent: a number, or signed data
    value_numeric: Mapped[float | None] = mapped_column(Float)
    measurand: Mapped[str] = mapped_column(String(64), default="Energy.Active.Import.Register")
    context: Mapped[str | None] = mapped_column(String(32))
    unit: Mapped[str | None] = mapped_column(String(16))
    phase: Mapped[str | None] = mapped_column(String(8))
    location: Mapped[str | None] = mapped_column(String(8))
    format: Mapped[str | None] = mapped_column(String(16))
    unit_multiplier: Mapped[int | None] = mapped_column(Integer)  # 2.0.1 unitOfMeasure.multiplier: value × 10^multiplier
    signed_meter_value: Mapped[dict[str, Any] | None] = mapped_column(JSONObject)  # 2.0.1 signedMeterValue, as sent
    source: Mapped[str] = mapped_column(String(16), default="MeterValues")  # or StopTransaction
    # The sample's content hashed (storage/repeats.py): a MeterValues sent again after a lost
    # CALLRESULT (it has no id of its own) is not stored twice.
    repeat_key: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class CommandRecord(Base):
    """Every CSMS->station command: who asked, what was sent, what the station answered, how long it took."""

    __tablename__ = "commands"
    __table_args__ = (Index("ix_commands_station_time", "station_id", "requested_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48))
    operation: Mapped[str] = mapped_column(String(48))  # version-agnostic, e.g. "reset"
    action: Mapped[str | None] = mapped_column(String(48))  # the OCPP action sent, e.g. "Reset"
    request: Mapped[dict[str, Any] | None]
    outcome: Mapped[str] = mapped_column(String(16))  # answered | call_error | timeout | offline | busy | invalid | unavailable
    status: Mapped[str | None] = mapped_column(String(32))  # the station's "status" field, if its answer has one
    response: Mapped[dict[str, Any] | None]
    error_code: Mapped[str | None] = mapped_column(String(48))
    error_description: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[float | None] = mapped_column(Float)


class DeviceModelVariable(Base):
    """One attribute of one variable of one component of a station's device model, as the station
    last reported it (OCPP 2.0.1 Part 1 §4: component[instance] on EVSE/connector, variable[instance],
    attribute type Actual/Target/MinSet/MaxSet).

    OCPP 1.6 configuration keys are variables of one component, ``OCPP16Configuration`` (Actual
    attribute), so one table and one API read both. Key columns cannot be NULL: "no instance" is
    ``""`` and "no EVSE/connector" is 0 (2.0.1 numbers EVSEs and connectors from 1).
    """

    __tablename__ = "device_model_variables"

    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    component: Mapped[str] = mapped_column(String(50), primary_key=True)
    component_instance: Mapped[str] = mapped_column(String(50), primary_key=True, default="")
    evse_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    variable: Mapped[str] = mapped_column(String(50), primary_key=True)
    variable_instance: Mapped[str] = mapped_column(String(50), primary_key=True, default="")
    attribute_type: Mapped[str] = mapped_column(String(8), primary_key=True, default="Actual")
    value: Mapped[str | None] = mapped_column(Text)
    mutability: Mapped[str | None] = mapped_column(String(10))  # ReadOnly | WriteOnly | ReadWrite
    persistent: Mapped[bool | None] = mapped_column(Boolean)
    constant: Mapped[bool | None] = mapped_column(Boolean)
    characteristics: Mapped[dict[str, Any] | None] = mapped_column(JSONObject)  # VariableCharacteristicsType
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Reservation(Base):
    """A connector held for an id token until an expiry date."""

    __tablename__ = "reservations"
    __table_args__ = (Index("ix_reservations_station_status", "station_id", "status"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)  # the OCPP reservationId
    station_id: Mapped[str] = mapped_column(String(48))
    evse_id: Mapped[int] = mapped_column(Integer)
    id_token: Mapped[str] = mapped_column(String(36))
    parent_id_token: Mapped[str | None] = mapped_column(String(36))
    expiry_date: Mapped[datetime]
    # Requested -> Accepted | Faulted | Occupied | Rejected | Unavailable; Accepted -> Used | Cancelled | Expired
    status: Mapped[str] = mapped_column(String(16), default="Requested")
    transaction_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LocalAuthList(Base):
    """The local authorization list as last accepted by a station, and its version."""

    __tablename__ = "local_auth_lists"

    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LocalAuthListEntry(Base):
    __tablename__ = "local_auth_list_entries"

    station_id: Mapped[str] = mapped_column(ForeignKey("local_auth_lists.station_id", ondelete="CASCADE"), primary_key=True)
    id_token: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    expiry_date: Mapped[datetime | None]
    parent_id_token: Mapped[str | None] = mapped_column(String(36))
    # The types sent with the entry (OCPP 2.0.1 IdTokenType), so a Differential update resends a
    # token whose type changed. NULL: stored before 0014, or for a 1.6 station (sent without type).
    id_token_type: Mapped[str | None] = mapped_column(String(20))
    parent_id_token_type: Mapped[str | None] = mapped_column(String(20))


class ChargingProfileRecord(Base):
    """A charging profile a station accepted, kept per station and EVSE."""

    __tablename__ = "charging_profiles"
    __table_args__ = (UniqueConstraint("station_id", "charging_profile_id", name="uq_charging_profiles_station_profile"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(48), index=True)
    evse_id: Mapped[int] = mapped_column(Integer)
    charging_profile_id: Mapped[int] = mapped_column(Integer)
    stack_level: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(32))
    transaction_id: Mapped[int | None] = mapped_column(BigInteger)
    profile: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An API key; only its hash is stored, the key itself is shown once at creation."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))  # admin | operator | viewer
    prefix: Mapped[str] = mapped_column(String(16), index=True)  # first characters, to find the row and show the key
    key_hash: Mapped[str] = mapped_column(String(128))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Every write through the API: who, when, what, and how it ended."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    principal: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any] | None]


# --- what stations report on their own (OCPP 2.0.1 monitoring, display, smart charging, customer
# information). Owners: ``station_reports``/``station_report_parts`` the report service,
# ``monitoring_events``/``variable_monitors`` the monitoring service, ``display_messages`` the
# display message service, ``charging_limits``/``ev_charging_needs``/``ev_charging_schedules``/
# ``reported_charging_profiles`` the charging report service, ``customer_information_parts`` the
# customer information service.


class StationReport(Base):
    """A report a station sends in parts (``tbc``) for one request of the CSMS (its ``requestId``).

    ``complete`` once the last part (``tbc`` false) and every part before it arrived; the API shows
    a report's content only then.
    """

    __tablename__ = "station_reports"
    __table_args__ = (UniqueConstraint("station_id", "kind", "request_id", name="uq_station_reports_request"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # monitoring | charging_profiles | display_messages | customer_information
    request_id: Mapped[int] = mapped_column(BigInteger)
    part_count: Mapped[int] = mapped_column(Integer, default=0)
    final_seq_no: Mapped[int | None] = mapped_column(Integer)  # seqNo of the part with tbc false, once it came
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    first_received_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]


class StationReportPart(Base):
    """One part of a :class:`StationReport`, stored once by its key (seqNo, or a digest of the part
    for messages that carry no seqNo)."""

    __tablename__ = "station_report_parts"
    __table_args__ = (UniqueConstraint("report_id", "part_key", name="uq_station_report_parts_key"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("station_reports.id", ondelete="CASCADE"))
    part_key: Mapped[str] = mapped_column(String(64))
    seq_no: Mapped[int] = mapped_column(Integer)  # as sent, or the order of arrival when the message has none
    tbc: Mapped[bool] = mapped_column(Boolean, default=False)
    generated_at: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class MonitoringEvent(Base):
    """One event of a NotifyEvent (OCPP 2.0.1 N07/N08), stored once by (station, eventId, timestamp)."""

    __tablename__ = "monitoring_events"
    __table_args__ = (
        UniqueConstraint("station_id", "event_id", "timestamp", name="uq_monitoring_events_event"),
        Index("ix_monitoring_events_station_time", "station_id", "timestamp"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(BigInteger)
    timestamp: Mapped[datetime]
    trigger: Mapped[str] = mapped_column(String(16))  # Alerting | Delta | Periodic
    cause: Mapped[int | None] = mapped_column(BigInteger)  # the eventId of the event that caused it
    actual_value: Mapped[str] = mapped_column(Text)
    tech_code: Mapped[str | None] = mapped_column(String(50))
    tech_info: Mapped[str | None] = mapped_column(Text)
    cleared: Mapped[bool | None] = mapped_column(Boolean)
    station_transaction_id: Mapped[str | None] = mapped_column(String(36))
    variable_monitoring_id: Mapped[int | None] = mapped_column(BigInteger)
    event_notification_type: Mapped[str] = mapped_column(String(32))
    component: Mapped[str] = mapped_column(String(50))
    component_instance: Mapped[str | None] = mapped_column(String(50))
    evse_id: Mapped[int | None] = mapped_column(Integer)
    connector_id: Mapped[int | None] = mapped_column(Integer)
    variable: Mapped[str] = mapped_column(String(50))
    variable_instance: Mapped[str | None] = mapped_column(String(50))
    seq_no: Mapped[int] = mapped_column(Integer)  # of the NotifyEvent part that carried it
    tbc: Mapped[bool] = mapped_column(Boolean, default=False)
    generated_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class VariableMonitor(Base):
    """One monitor of one variable, as a NotifyMonitoringReport reported it."""

    __tablename__ = "variable_monitors"
    __table_args__ = (Index("ix_variable_monitors_report", "report_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("station_reports.id", ondelete="CASCADE"))
    monitor_id: Mapped[int] = mapped_column(BigInteger)
    component: Mapped[str] = mapped_column(String(50))
    component_instance: Mapped[str | None] = mapped_column(String(50))
    evse_id: Mapped[int | None] = mapped_column(Integer)
    connector_id: Mapped[int | None] = mapped_column(Integer)
    variable: Mapped[str] = mapped_column(String(50))
    variable_instance: Mapped[str | None] = mapped_column(String(50))
    type: Mapped[str] = mapped_column(String(24))  # UpperThreshold | LowerThreshold | Delta | Periodic | PeriodicClockAligned
    value: Mapped[float] = mapped_column(Float)
    severity: Mapped[int] = mapped_column(Integer)
    transaction: Mapped[bool] = mapped_column(Boolean)  # only active while a transaction runs
    # OCPP 2.1: HardWiredMonitor | PreconfiguredMonitor | CustomMonitor (which ones an operator may clear)
    event_notification_type: Mapped[str | None] = mapped_column(String(24))
    seq_no: Mapped[int] = mapped_column(Integer)


class DisplayMessage(Base):
    """One message a NotifyDisplayMessages reported as configured on the station."""

    __tablename__ = "display_messages"
    __table_args__ = (Index("ix_display_messages_report", "report_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("station_reports.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(BigInteger)
    priority: Mapped[str] = mapped_column(String(16))
    state: Mapped[str | None] = mapped_column(String(16))
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    station_transaction_id: Mapped[str | None] = mapped_column(String(36))
    message_format: Mapped[str] = mapped_column(String(8))
    language: Mapped[str | None] = mapped_column(String(8))
    content: Mapped[str] = mapped_column(Text)
    display_component: Mapped[str | None] = mapped_column(String(50))
    display_component_instance: Mapped[str | None] = mapped_column(String(50))
    display_evse_id: Mapped[int | None] = mapped_column(Integer)
    display_connector_id: Mapped[int | None] = mapped_column(Integer)
    seq_no: Mapped[int] = mapped_column(Integer)


class ChargingLimitRecord(Base):
    """A charging limit an external system set on a station (NotifyChargingLimit) or cleared (ClearedChargingLimit)."""

    __tablename__ = "charging_limits"
    __table_args__ = (Index("ix_charging_limits_station_time", "station_id", "received_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    evse_id: Mapped[int | None] = mapped_column(Integer)
    charging_limit_source: Mapped[str] = mapped_column(String(20))
    cleared: Mapped[bool] = mapped_column(Boolean)
    is_grid_critical: Mapped[bool | None] = mapped_column(Boolean)
    charging_schedules: Mapped[dict[str, Any] | None]  # {"schedules": [...]}, see services/charging_reports.py
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class EvChargingNeedsRecord(Base):
    """What an EV told the station it needs (ISO 15118, NotifyEVChargingNeeds)."""

    __tablename__ = "ev_charging_needs"
    __table_args__ = (
        Index("ix_ev_charging_needs_station_time", "station_id", "received_at"),
        Index("ux_ev_charging_needs_repeat_key", "repeat_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    evse_id: Mapped[int] = mapped_column(Integer)
    requested_energy_transfer: Mapped[str] = mapped_column(String(32))
    departure_time: Mapped[datetime | None]
    max_schedule_tuples: Mapped[int | None] = mapped_column(BigInteger)
    ac_charging_parameters: Mapped[dict[str, Any] | None]
    dc_charging_parameters: Mapped[dict[str, Any] | None]
    status: Mapped[str] = mapped_column(String(16))  # what the CSMS answered
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # 2.1 needs (with a timestamp) hashed with it (storage/repeats.py): sent again, stored once.
    # NULL: 2.0.1 needs (no time to tell a repeat from a new negotiation), rows before 0015.
    repeat_key: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class EvChargingScheduleRecord(Base):
    """The schedule an EV chose from the offered ones (NotifyEVChargingSchedule)."""

    __tablename__ = "ev_charging_schedules"
    __table_args__ = (
        Index("ix_ev_charging_schedules_station_time", "station_id", "received_at"),
        Index("ux_ev_charging_schedules_repeat_key", "repeat_key", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(ForeignKey("stations.id", ondelete="CASCADE"))
    evse_id: Mapped[int] = mapped_column(Integer)
    time_base: Mapped[datetime]
    charging_schedule: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))  # what the CSMS answered
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # EVSE, timeBase and schedule hashed (storage/repeats.py): sent again, stored once.
    repeat_key: Mapped[bytes | None] = mapped_column(LargeBinary(16))


class ReportedChargingProfile(Base):
    """A charging profile a station reported as installed (ReportChargingProfiles), whoever installed it."""

    __tablename__ = "reported_charging_profiles"
    __table_args__ = (Index("ix_reported_charging_profiles_report", "report_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("station_reports.id", ondelete="CASCADE"))
    evse_id: Mapped[int] = mapped_column(Integer)
    charging_limit_source: Mapped[str] = mapped_column(String(20))
    charging_profile_id: Mapped[int] = mapped_column(BigInteger)
    stack_level: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(String(40))
    profile: Mapped[dict[str, Any]]
    seq_no: Mapped[int] = mapped_column(Integer)


class CustomerInformationPart(Base):
    """One part of the customer information a station reported (NotifyCustomerInformation)."""

    __tablename__ = "customer_information_parts"
    __table_args__ = (Index("ix_customer_information_parts_report", "report_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("station_reports.id", ondelete="CASCADE"))
    seq_no: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)
    generated_at: Mapped[datetime]
