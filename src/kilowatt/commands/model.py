"""The CSMS->station commands and their results, in version-neutral terms.

One frozen dataclass per operation, with the OCPP vocabulary (``evse_id``, ``connector_id``,
``id_token``) and units in names (``_s``). Enums carry the domain's names — OCPP 2.0.1's where 2.0.1
has one — and each ``ocpp/<version>/codec.py`` maps them explicitly onto its own spellings.

A result's ``status`` is the station's status word as it spelled it (``Accepted``, ``Rejected``,
``Scheduled``, ``Unlocked``...): the two versions spell the statuses of the operations they share
the same way, and passing the word through keeps a status a later version adds visible rather than
squeezed into an older enum. A version whose spelling differs maps it in its decoder.

Targets: ``evse_id`` is the EVSE (OCPP 1.6 connector N is EVSE N; 0 is the whole station) and
``connector_id`` a connector of that EVSE (2.0.1 only; 1.6 has one connector per EVSE).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from kilowatt.refs import TransactionRef


class ResetMode(enum.Enum):
    """How to reset. OCPP 2.0.1 names; 1.6 ``Hard`` is Immediate and ``Soft`` is OnIdle (see docs)."""

    IMMEDIATE = "Immediate"  # now, ending running transactions
    ON_IDLE = "OnIdle"  # once no transaction runs (1.6 Soft: ends transactions gracefully, then restarts)


class MessageTrigger(enum.Enum):
    """A message a station can be asked to send now (TriggerMessage; 2.0.1 names)."""

    BOOT_NOTIFICATION = "BootNotification"
    HEARTBEAT = "Heartbeat"
    METER_VALUES = "MeterValues"
    STATUS_NOTIFICATION = "StatusNotification"
    FIRMWARE_STATUS_NOTIFICATION = "FirmwareStatusNotification"
    DIAGNOSTICS_STATUS_NOTIFICATION = "DiagnosticsStatusNotification"  # 1.6 only
    LOG_STATUS_NOTIFICATION = "LogStatusNotification"  # 1.6: security extension only
    SIGN_CHARGING_STATION_CERTIFICATE = "SignChargingStationCertificate"  # 1.6: SignChargePointCertificate
    TRANSACTION_EVENT = "TransactionEvent"  # 2.0.1 only


class LogType(enum.Enum):
    DIAGNOSTICS = "DiagnosticsLog"
    SECURITY = "SecurityLog"


class CertificateUse(enum.Enum):
    """Which root a certificate is (2.0.1 GetCertificateIdUseEnumType / InstallCertificateUseEnumType)."""

    CSMS_ROOT = "CSMSRootCertificate"  # 1.6: CentralSystemRootCertificate
    MANUFACTURER_ROOT = "ManufacturerRootCertificate"
    V2G_ROOT = "V2GRootCertificate"  # 2.0.1 only
    MO_ROOT = "MORootCertificate"  # 2.0.1 only


class HashAlgorithm(enum.Enum):
    SHA256 = "SHA256"
    SHA384 = "SHA384"
    SHA512 = "SHA512"


class ChargingProfilePurpose(enum.Enum):
    CHARGING_STATION_MAX = "ChargingStationMaxProfile"  # 1.6: ChargePointMaxProfile
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class ChargingProfileKind(enum.Enum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RecurrencyKind(enum.Enum):
    DAILY = "Daily"
    WEEKLY = "Weekly"


class ChargingRateUnit(enum.Enum):
    AMPERES = "A"
    WATTS = "W"


class UpdateType(enum.Enum):
    FULL = "Full"
    DIFFERENTIAL = "Differential"


class AuthorizationStatus(enum.Enum):
    """An id token's status in a local list (the values 1.6 and 2.0.1 share)."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"


# --- shared structures ------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class ChargingSchedulePeriod:
    start_period_s: int  # from the start of the schedule
    limit: float  # in the schedule's charging_rate_unit
    number_phases: int | None = None


@dataclass(slots=True, frozen=True)
class ChargingSchedule:
    charging_rate_unit: ChargingRateUnit
    periods: tuple[ChargingSchedulePeriod, ...]
    duration_s: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: float | None = None


@dataclass(slots=True, frozen=True)
class ChargingProfile:
    """A charging profile. ``transaction_id`` is our transaction id (a TxProfile's transaction)."""

    charging_profile_id: int
    stack_level: int
    purpose: ChargingProfilePurpose
    kind: ChargingProfileKind
    charging_schedule: ChargingSchedule
    recurrency_kind: RecurrencyKind | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: int | None = None


@dataclass(slots=True, frozen=True)
class CertificateHashData:
    hash_algorithm: HashAlgorithm
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str


@dataclass(slots=True, frozen=True)
class LocalListEntry:
    """One id token of a local list; without ``status`` it removes the token (differential only)."""

    id_token: str
    status: AuthorizationStatus | None = None
    expiry_date: datetime | None = None
    parent_id_token: str | None = None


@dataclass(slots=True, frozen=True)
class ConfigurationValue:
    key: str
    value: str | None
    readonly: bool


# --- results ----------------------------------------------------------------------------------


class Result:
    """Base of every result: ``status`` is the station's status word, None when the answer has none."""

    __slots__ = ()

    status: str | None


@dataclass(slots=True, frozen=True)
class StatusResult(Result):
    """The answer of an operation whose answer is a status alone."""

    status: str


@dataclass(slots=True, frozen=True)
class EmptyResult(Result):
    """The answer of an operation whose answer carries nothing (1.6 UpdateFirmware)."""

    status: None = None


@dataclass(slots=True, frozen=True)
class DataTransferResult(Result):
    status: str
    data: str | None = None


@dataclass(slots=True, frozen=True)
class GetConfigurationResult(Result):
    values: tuple[ConfigurationValue, ...] = ()
    unknown_keys: tuple[str, ...] = ()
    status: None = None


@dataclass(slots=True, frozen=True)
class GetDiagnosticsResult(Result):
    file_name: str | None = None
    status: None = None


@dataclass(slots=True, frozen=True)
class GetLogResult(Result):
    status: str
    file_name: str | None = None


@dataclass(slots=True, frozen=True)
class GetInstalledCertificateIdsResult(Result):
    status: str
    certificate_hash_data: tuple[CertificateHashData, ...] = ()


@dataclass(slots=True, frozen=True)
class GetLocalListVersionResult(Result):
    list_version: int  # -1: the station has no list (1.6); 0: none installed yet
    status: None = None


@dataclass(slots=True, frozen=True)
class GetCompositeScheduleResult(Result):
    status: str
    evse_id: int | None = None
    schedule_start: datetime | None = None
    charging_schedule: ChargingSchedule | None = None


# --- commands ---------------------------------------------------------------------------------


class Command:
    """Base of every command. ``operation`` names it in records and the API; ``result`` is its answer's type."""

    __slots__ = ()

    operation: ClassVar[str]
    result: ClassVar[type[Result]] = StatusResult


@dataclass(slots=True, frozen=True)
class Reset(Command):
    operation = "reset"
    mode: ResetMode
    evse_id: int | None = None  # 2.0.1 only: reset one EVSE


@dataclass(slots=True, frozen=True)
class RemoteStart(Command):
    operation = "remote_start"
    id_token: str
    evse_id: int | None = None
    charging_profile: ChargingProfile | None = None  # a TxProfile


@dataclass(slots=True, frozen=True)
class RemoteStop(Command):
    """Stop ``transaction``: 1.6 names it by our id (the transactionId it was started with), 2.0.1
    by the station's own id — the 2.0.1 encoder will need ``station_transaction_id`` resolved."""

    operation = "remote_stop"
    transaction: TransactionRef


@dataclass(slots=True, frozen=True)
class UnlockConnector(Command):
    operation = "unlock"
    evse_id: int
    connector_id: int | None = None


@dataclass(slots=True, frozen=True)
class ChangeAvailability(Command):
    """``evse_id`` 0 (or None) is the whole station."""

    operation = "change_availability"
    operative: bool
    evse_id: int | None = None
    connector_id: int | None = None


@dataclass(slots=True, frozen=True)
class TriggerMessage(Command):
    operation = "trigger_message"
    requested_message: MessageTrigger
    evse_id: int | None = None


@dataclass(slots=True, frozen=True)
class ExtendedTriggerMessage(Command):
    """1.6 security extension's trigger; OCPP 2.0.1 folds it into TriggerMessage."""

    operation = "extended_trigger_message"
    requested_message: MessageTrigger
    evse_id: int | None = None


@dataclass(slots=True, frozen=True)
class ClearCache(Command):
    operation = "clear_cache"


@dataclass(slots=True, frozen=True)
class DataTransfer(Command):
    operation = "data_transfer"
    result = DataTransferResult
    vendor_id: str
    message_id: str | None = None
    data: str | None = None


@dataclass(slots=True, frozen=True)
class GetConfiguration(Command):
    """1.6 configuration keys (2.0.1: GetVariables). No keys: all of them."""

    operation = "get_configuration"
    result = GetConfigurationResult
    keys: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class ChangeConfiguration(Command):
    """One 1.6 configuration key (2.0.1: SetVariables)."""

    operation = "change_configuration"
    key: str
    value: str


@dataclass(slots=True, frozen=True)
class UpdateFirmware(Command):
    """Unsigned firmware (1.6 core). 2.0.1's UpdateFirmware is :class:`SignedUpdateFirmware`."""

    operation = "update_firmware"
    result = EmptyResult
    location: str
    retrieve_at: datetime
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(slots=True, frozen=True)
class Firmware:
    location: str
    retrieve_at: datetime
    signing_certificate: str
    signature: str
    install_at: datetime | None = None


@dataclass(slots=True, frozen=True)
class SignedUpdateFirmware(Command):
    operation = "signed_update_firmware"
    request_id: int
    firmware: Firmware
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(slots=True, frozen=True)
class GetDiagnostics(Command):
    """1.6 core diagnostics upload (2.0.1: GetLog with DiagnosticsLog)."""

    operation = "get_diagnostics"
    result = GetDiagnosticsResult
    location: str
    retries: int | None = None
    retry_interval_s: int | None = None
    start_time: datetime | None = None
    stop_time: datetime | None = None


@dataclass(slots=True, frozen=True)
class GetLog(Command):
    operation = "get_log"
    result = GetLogResult
    log_type: LogType
    request_id: int
    remote_location: str
    oldest_timestamp: datetime | None = None
    latest_timestamp: datetime | None = None
    retries: int | None = None
    retry_interval_s: int | None = None


@dataclass(slots=True, frozen=True)
class InstallCertificate(Command):
    operation = "install_certificate"
    certificate_type: CertificateUse
    certificate: str  # PEM


@dataclass(slots=True, frozen=True)
class GetInstalledCertificateIds(Command):
    operation = "get_installed_certificate_ids"
    result = GetInstalledCertificateIdsResult
    certificate_type: CertificateUse


@dataclass(slots=True, frozen=True)
class DeleteCertificate(Command):
    operation = "delete_certificate"
    certificate_hash_data: CertificateHashData


@dataclass(slots=True, frozen=True)
class CertificateSigned(Command):
    operation = "certificate_signed"
    certificate_chain: str  # PEM


@dataclass(slots=True, frozen=True)
class GetLocalListVersion(Command):
    operation = "get_local_list_version"
    result = GetLocalListVersionResult


@dataclass(slots=True, frozen=True)
class SendLocalList(Command):
    operation = "send_local_list"
    list_version: int
    update_type: UpdateType
    entries: tuple[LocalListEntry, ...] = ()


@dataclass(slots=True, frozen=True)
class ReserveNow(Command):
    operation = "reserve_now"
    reservation_id: int
    evse_id: int
    id_token: str
    expiry_date: datetime
    parent_id_token: str | None = None


@dataclass(slots=True, frozen=True)
class CancelReservation(Command):
    operation = "cancel_reservation"
    reservation_id: int


@dataclass(slots=True, frozen=True)
class SetChargingProfile(Command):
    operation = "set_charging_profile"
    evse_id: int
    charging_profile: ChargingProfile


@dataclass(slots=True, frozen=True)
class ClearChargingProfile(Command):
    """An id clears that profile; otherwise every profile matching all criteria given."""

    operation = "clear_charging_profile"
    charging_profile_id: int | None = None
    evse_id: int | None = None
    purpose: ChargingProfilePurpose | None = None
    stack_level: int | None = None


@dataclass(slots=True, frozen=True)
class GetCompositeSchedule(Command):
    operation = "get_composite_schedule"
    result = GetCompositeScheduleResult
    evse_id: int
    duration_s: int
    charging_rate_unit: ChargingRateUnit | None = None


COMMAND_TYPES: tuple[type[Command], ...] = (
    Reset,
    RemoteStart,
    RemoteStop,
    UnlockConnector,
    ChangeAvailability,
    TriggerMessage,
    ExtendedTriggerMessage,
    ClearCache,
    DataTransfer,
    GetConfiguration,
    ChangeConfiguration,
    UpdateFirmware,
    SignedUpdateFirmware,
    GetDiagnostics,
    GetLog,
    InstallCertificate,
    GetInstalledCertificateIds,
    DeleteCertificate,
    CertificateSigned,
    GetLocalListVersion,
    SendLocalList,
    ReserveNow,
    CancelReservation,
    SetChargingProfile,
    ClearChargingProfile,
    GetCompositeSchedule,
)
RESULT_TYPES: tuple[type[Result], ...] = (
    StatusResult,
    EmptyResult,
    DataTransferResult,
    GetConfigurationResult,
    GetDiagnosticsResult,
    GetLogResult,
    GetInstalledCertificateIdsResult,
    GetLocalListVersionResult,
    GetCompositeScheduleResult,
)


# OCPP 2.1's operations live in modules of their own (tariffs, DER control, energy, event streams).
from kilowatt.commands import der, energy, streams, tariffs  # noqa: E402

COMMAND_TYPES += tariffs.COMMANDS + der.COMMANDS + energy.COMMANDS + streams.COMMANDS
RESULT_TYPES += tariffs.RESULTS + der.RESULTS + energy.RESULTS + streams.RESULTS
