"""The typed commands as OCPP 1.6 CALLs (core, the optional profiles and the security whitepaper).

One encoder and one decoder per operation, registered in :data:`OPERATIONS`, and an explicit map
for every enum — also where the spellings agree, so a value the domain adds is a visible gap here
and never a silent pass-through. Targets: 1.6 connector N is EVSE N (0: the station), so the 1.6
``connectorId`` is ``evse_id``; a ``connector_id`` may only name that EVSE's one connector.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from kilowatt.commands import model as m
from kilowatt.ocpp.execute import CannotEncode
from kilowatt.ocpp.operations import Operation
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.services.common import rfc3339

MAX_ID_TAG_LENGTH = 20  # 1.6 IdToken is CiString20Type

# --- enum maps (domain -> 1.6) ------------------------------------------------------------------

RESET_TYPE: dict[m.ResetMode, str] = {m.ResetMode.IMMEDIATE: "Hard", m.ResetMode.ON_IDLE: "Soft"}
AVAILABILITY_TYPE: dict[bool, str] = {True: "Operative", False: "Inoperative"}
MESSAGE_TRIGGER: dict[m.MessageTrigger, str] = {
    m.MessageTrigger.BOOT_NOTIFICATION: "BootNotification",
    m.MessageTrigger.DIAGNOSTICS_STATUS_NOTIFICATION: "DiagnosticsStatusNotification",
    m.MessageTrigger.FIRMWARE_STATUS_NOTIFICATION: "FirmwareStatusNotification",
    m.MessageTrigger.HEARTBEAT: "Heartbeat",
    m.MessageTrigger.METER_VALUES: "MeterValues",
    m.MessageTrigger.STATUS_NOTIFICATION: "StatusNotification",
}
EXTENDED_MESSAGE_TRIGGER: dict[m.MessageTrigger, str] = {
    m.MessageTrigger.BOOT_NOTIFICATION: "BootNotification",
    m.MessageTrigger.LOG_STATUS_NOTIFICATION: "LogStatusNotification",
    m.MessageTrigger.FIRMWARE_STATUS_NOTIFICATION: "FirmwareStatusNotification",
    m.MessageTrigger.HEARTBEAT: "Heartbeat",
    m.MessageTrigger.METER_VALUES: "MeterValues",
    m.MessageTrigger.SIGN_CHARGING_STATION_CERTIFICATE: "SignChargePointCertificate",
    m.MessageTrigger.STATUS_NOTIFICATION: "StatusNotification",
}
LOG_TYPE: dict[m.LogType, str] = {m.LogType.DIAGNOSTICS: "DiagnosticsLog", m.LogType.SECURITY: "SecurityLog"}
CERTIFICATE_USE: dict[m.CertificateUse, str] = {
    m.CertificateUse.CSMS_ROOT: "CentralSystemRootCertificate",
    m.CertificateUse.MANUFACTURER_ROOT: "ManufacturerRootCertificate",
}
HASH_ALGORITHM: dict[m.HashAlgorithm, str] = {
    m.HashAlgorithm.SHA256: "SHA256",
    m.HashAlgorithm.SHA384: "SHA384",
    m.HashAlgorithm.SHA512: "SHA512",
}
PROFILE_PURPOSE: dict[m.ChargingProfilePurpose, str] = {
    m.ChargingProfilePurpose.CHARGING_STATION_MAX: "ChargePointMaxProfile",
    m.ChargingProfilePurpose.TX_DEFAULT: "TxDefaultProfile",
    m.ChargingProfilePurpose.TX: "TxProfile",
}
PROFILE_KIND: dict[m.ChargingProfileKind, str] = {
    m.ChargingProfileKind.ABSOLUTE: "Absolute",
    m.ChargingProfileKind.RECURRING: "Recurring",
    m.ChargingProfileKind.RELATIVE: "Relative",
}
RECURRENCY_KIND: dict[m.RecurrencyKind, str] = {m.RecurrencyKind.DAILY: "Daily", m.RecurrencyKind.WEEKLY: "Weekly"}
RATE_UNIT: dict[m.ChargingRateUnit, str] = {m.ChargingRateUnit.AMPERES: "A", m.ChargingRateUnit.WATTS: "W"}
UPDATE_TYPE: dict[m.UpdateType, str] = {m.UpdateType.FULL: "Full", m.UpdateType.DIFFERENTIAL: "Differential"}
AUTHORIZATION_STATUS: dict[m.AuthorizationStatus, str] = {
    m.AuthorizationStatus.ACCEPTED: "Accepted",
    m.AuthorizationStatus.BLOCKED: "Blocked",
    m.AuthorizationStatus.EXPIRED: "Expired",
    m.AuthorizationStatus.INVALID: "Invalid",
    m.AuthorizationStatus.CONCURRENT_TX: "ConcurrentTx",
}

E = TypeVar("E", bound=Enum)


def _reverse(mapping: Mapping[E, str]) -> dict[str, E]:
    return {spelling: value for value, spelling in mapping.items()}


HASH_ALGORITHM_OF = _reverse(HASH_ALGORITHM)
RATE_UNIT_OF = _reverse(RATE_UNIT)


def _spell(mapping: Mapping[Any, str], value: Any, what: str) -> str:
    try:
        return mapping[value]
    except KeyError:
        raise CannotEncode(f"OCPP 1.6 has no {what} {getattr(value, 'value', value)!r}") from None


def _optional(payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """``payload`` with the ``fields`` that are not None (1.6 omits absent optional fields)."""
    payload.update((name, value) for name, value in fields.items() if value is not None)
    return payload


def _time(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None


def _connector(evse_id: int | None, connector_id: int | None, *, required: bool = False) -> int | None:
    """The 1.6 connectorId for a target: the EVSE; a connector can only be that EVSE's one."""
    if connector_id is not None and connector_id != (1 if evse_id else 0):
        raise CannotEncode("an OCPP 1.6 EVSE has one connector: give evse_id (the 1.6 connectorId) alone")
    if evse_id is None and required:
        raise CannotEncode("OCPP 1.6 needs evse_id here (the 1.6 connectorId)")
    return evse_id


# --- encoders -----------------------------------------------------------------------------------


def _schedule(schedule: m.ChargingSchedule) -> dict[str, Any]:
    periods = [_optional({"startPeriod": p.start_period_s, "limit": p.limit}, numberPhases=p.number_phases) for p in schedule.periods]
    return _optional(
        {"chargingRateUnit": RATE_UNIT[schedule.charging_rate_unit], "chargingSchedulePeriod": periods},
        duration=schedule.duration_s,
        startSchedule=_time(schedule.start_schedule),
        minChargingRate=schedule.min_charging_rate,
    )


def _profile(profile: m.ChargingProfile) -> dict[str, Any]:
    return _optional(
        {
            "chargingProfileId": profile.charging_profile_id,
            "stackLevel": profile.stack_level,
            "chargingProfilePurpose": PROFILE_PURPOSE[profile.purpose],
            "chargingProfileKind": PROFILE_KIND[profile.kind],
            "chargingSchedule": _schedule(profile.charging_schedule),
        },
        transactionId=profile.transaction_id,
        recurrencyKind=RECURRENCY_KIND[profile.recurrency_kind] if profile.recurrency_kind else None,
        validFrom=_time(profile.valid_from),
        validTo=_time(profile.valid_to),
    )


def _hash_data(data: m.CertificateHashData) -> dict[str, Any]:
    return {
        "hashAlgorithm": HASH_ALGORITHM[data.hash_algorithm],
        "issuerNameHash": data.issuer_name_hash,
        "issuerKeyHash": data.issuer_key_hash,
        "serialNumber": data.serial_number,
    }


def encode_reset(c: m.Reset) -> dict[str, Any]:
    if c.evse_id is not None:
        raise CannotEncode("OCPP 1.6 resets the whole station: evse_id is for OCPP 2.0.1")
    return {"type": RESET_TYPE[c.mode]}


def encode_remote_start(c: m.RemoteStart) -> dict[str, Any]:
    return _optional(
        {"idTag": c.id_token},
        connectorId=c.evse_id,
        chargingProfile=_profile(c.charging_profile) if c.charging_profile else None,
    )


def encode_remote_stop(c: m.RemoteStop) -> dict[str, Any]:
    return {"transactionId": c.transaction.id}  # 1.6 knows a transaction by our id


def encode_unlock(c: m.UnlockConnector) -> dict[str, Any]:
    return {"connectorId": _connector(c.evse_id, c.connector_id, required=True)}


def encode_change_availability(c: m.ChangeAvailability) -> dict[str, Any]:
    return {"connectorId": _connector(c.evse_id or 0, c.connector_id), "type": AVAILABILITY_TYPE[c.operative]}


def encode_trigger(c: m.TriggerMessage) -> dict[str, Any]:
    requested = _spell(MESSAGE_TRIGGER, c.requested_message, "TriggerMessage for")
    return _optional({"requestedMessage": requested}, connectorId=_connector(c.evse_id, c.connector_id))


def encode_extended_trigger(c: m.ExtendedTriggerMessage) -> dict[str, Any]:
    requested = _spell(EXTENDED_MESSAGE_TRIGGER, c.requested_message, "ExtendedTriggerMessage for")
    return _optional({"requestedMessage": requested}, connectorId=_connector(c.evse_id, c.connector_id))


def encode_nothing(c: m.Command) -> dict[str, Any]:
    return {}


def encode_data_transfer(c: m.DataTransfer) -> dict[str, Any]:
    return _optional({"vendorId": c.vendor_id}, messageId=c.message_id, data=c.data)


def encode_get_configuration(c: m.GetConfiguration) -> dict[str, Any]:
    return {"key": list(c.keys)} if c.keys else {}


def encode_change_configuration(c: m.ChangeConfiguration) -> dict[str, Any]:
    return {"key": c.key, "value": c.value}


def encode_update_firmware(c: m.UpdateFirmware) -> dict[str, Any]:
    return _optional({"location": c.location, "retrieveDate": rfc3339(c.retrieve_at)}, retries=c.retries, retryInterval=c.retry_interval_s)


def encode_signed_update_firmware(c: m.SignedUpdateFirmware) -> dict[str, Any]:
    firmware = _optional(
        {
            "location": c.firmware.location,
            "retrieveDateTime": rfc3339(c.firmware.retrieve_at),
            "signingCertificate": c.firmware.signing_certificate,
            "signature": c.firmware.signature,
        },
        installDateTime=_time(c.firmware.install_at),
    )
    return _optional({"requestId": c.request_id, "firmware": firmware}, retries=c.retries, retryInterval=c.retry_interval_s)


def encode_get_diagnostics(c: m.GetDiagnostics) -> dict[str, Any]:
    return _optional(
        {"location": c.location},
        retries=c.retries,
        retryInterval=c.retry_interval_s,
        startTime=_time(c.start_time),
        stopTime=_time(c.stop_time),
    )


def encode_get_log(c: m.GetLog) -> dict[str, Any]:
    log = _optional(
        {"remoteLocation": c.remote_location}, oldestTimestamp=_time(c.oldest_timestamp), latestTimestamp=_time(c.latest_timestamp)
    )
    return _optional(
        {"logType": LOG_TYPE[c.log_type], "requestId": c.request_id, "log": log}, retries=c.retries, retryInterval=c.retry_interval_s
    )


def encode_install_certificate(c: m.InstallCertificate) -> dict[str, Any]:
    return {"certificateType": _spell(CERTIFICATE_USE, c.certificate_type, "certificate type"), "certificate": c.certificate}


def encode_get_installed_certificate_ids(c: m.GetInstalledCertificateIds) -> dict[str, Any]:
    return {"certificateType": _spell(CERTIFICATE_USE, c.certificate_type, "certificate type")}


def encode_delete_certificate(c: m.DeleteCertificate) -> dict[str, Any]:
    return {"certificateHashData": _hash_data(c.certificate_hash_data)}


def encode_certificate_signed(c: m.CertificateSigned) -> dict[str, Any]:
    """1.6 (security extension) signs only the charge point's own certificate: its CertificateSigned names no type."""
    if c.certificate_type not in (None, m.CertificateSigningUse.CHARGING_STATION):
        raise CannotEncode(
            f"OCPP 1.6 has no certificate type {c.certificate_type.value!r}: it signs only the charge point certificate"
        )
    return {"certificateChain": c.certificate_chain}


def encode_send_local_list(c: m.SendLocalList) -> dict[str, Any]:
    """An entry without status removes the token: a 1.6 AuthorizationData without idTagInfo."""
    too_long = [entry.id_token for entry in c.entries if len(entry.id_token) > MAX_ID_TAG_LENGTH]
    if too_long:
        raise CannotEncode(
            f"OCPP 1.6 id tags are at most {MAX_ID_TAG_LENGTH} characters, so these id tokens cannot be in a 1.6 "
            f"local list: {', '.join(repr(t) for t in too_long)}"
        )
    entries = []
    for entry in c.entries:
        item: dict[str, Any] = {"idTag": entry.id_token}
        if entry.status is not None:
            item["idTagInfo"] = _optional(
                {"status": AUTHORIZATION_STATUS[entry.status]}, expiryDate=_time(entry.expiry_date), parentIdTag=entry.parent_id_token
            )
        entries.append(item)
    return {"listVersion": c.list_version, "updateType": UPDATE_TYPE[c.update_type], "localAuthorizationList": entries}


def encode_reserve_now(c: m.ReserveNow) -> dict[str, Any]:
    return _optional(
        {"connectorId": c.evse_id, "expiryDate": rfc3339(c.expiry_date), "idTag": c.id_token, "reservationId": c.reservation_id},
        parentIdTag=c.parent_id_token,
    )


def encode_cancel_reservation(c: m.CancelReservation) -> dict[str, Any]:
    return {"reservationId": c.reservation_id}


def encode_set_charging_profile(c: m.SetChargingProfile) -> dict[str, Any]:
    return {"connectorId": c.evse_id, "csChargingProfiles": _profile(c.charging_profile)}


def encode_clear_charging_profile(c: m.ClearChargingProfile) -> dict[str, Any]:
    return _optional(
        {},
        id=c.charging_profile_id,
        connectorId=c.evse_id,
        chargingProfilePurpose=PROFILE_PURPOSE[c.purpose] if c.purpose else None,
        stackLevel=c.stack_level,
    )


def encode_get_composite_schedule(c: m.GetCompositeSchedule) -> dict[str, Any]:
    unit = RATE_UNIT[c.charging_rate_unit] if c.charging_rate_unit else None
    return _optional({"connectorId": c.evse_id, "duration": c.duration_s}, chargingRateUnit=unit)


# --- decoders -----------------------------------------------------------------------------------


def decode_status(payload: dict[str, Any]) -> m.StatusResult:
    return m.StatusResult(payload["status"])


def decode_empty(payload: dict[str, Any]) -> m.EmptyResult:
    return m.EmptyResult()


def decode_data_transfer(payload: dict[str, Any]) -> m.DataTransferResult:
    return m.DataTransferResult(payload["status"], payload.get("data"))


def decode_get_configuration(payload: dict[str, Any]) -> m.GetConfigurationResult:
    values = tuple(m.ConfigurationValue(item["key"], item.get("value"), item["readonly"]) for item in payload.get("configurationKey") or ())
    return m.GetConfigurationResult(values, tuple(payload.get("unknownKey") or ()))


def decode_get_diagnostics(payload: dict[str, Any]) -> m.GetDiagnosticsResult:
    return m.GetDiagnosticsResult(payload.get("fileName"))


def decode_get_log(payload: dict[str, Any]) -> m.GetLogResult:
    return m.GetLogResult(payload["status"], payload.get("filename"))


def decode_get_installed_certificate_ids(payload: dict[str, Any]) -> m.GetInstalledCertificateIdsResult:
    hashes = tuple(
        m.CertificateHashData(HASH_ALGORITHM_OF[h["hashAlgorithm"]], h["issuerNameHash"], h["issuerKeyHash"], h["serialNumber"])
        for h in payload.get("certificateHashData") or ()
    )
    return m.GetInstalledCertificateIdsResult(payload["status"], hashes)


def decode_get_local_list_version(payload: dict[str, Any]) -> m.GetLocalListVersionResult:
    return m.GetLocalListVersionResult(payload["listVersion"])


def decode_get_composite_schedule(payload: dict[str, Any]) -> m.GetCompositeScheduleResult:
    schedule = payload.get("chargingSchedule")
    start = payload.get("scheduleStart")
    return m.GetCompositeScheduleResult(
        payload["status"],
        payload.get("connectorId"),
        parse_time(start, "scheduleStart") if start is not None else None,
        _decode_schedule(schedule) if schedule is not None else None,
    )


def _decode_schedule(data: dict[str, Any]) -> m.ChargingSchedule:
    start = data.get("startSchedule")
    return m.ChargingSchedule(
        RATE_UNIT_OF[data["chargingRateUnit"]],
        tuple(m.ChargingSchedulePeriod(p["startPeriod"], p["limit"], p.get("numberPhases")) for p in data["chargingSchedulePeriod"]),
        data.get("duration"),
        parse_time(start, "startSchedule") if start is not None else None,
        data.get("minChargingRate"),
    )


# --- the registry -------------------------------------------------------------------------------

OPERATIONS: dict[type[m.Command], Operation[Any]] = {
    m.Reset: Operation("Reset", encode_reset, decode_status),
    m.RemoteStart: Operation("RemoteStartTransaction", encode_remote_start, decode_status),
    m.RemoteStop: Operation("RemoteStopTransaction", encode_remote_stop, decode_status),
    m.UnlockConnector: Operation("UnlockConnector", encode_unlock, decode_status),
    m.ChangeAvailability: Operation("ChangeAvailability", encode_change_availability, decode_status),
    m.TriggerMessage: Operation("TriggerMessage", encode_trigger, decode_status),
    m.ExtendedTriggerMessage: Operation("ExtendedTriggerMessage", encode_extended_trigger, decode_status),
    m.ClearCache: Operation("ClearCache", encode_nothing, decode_status),
    m.DataTransfer: Operation("DataTransfer", encode_data_transfer, decode_data_transfer),
    m.GetConfiguration: Operation("GetConfiguration", encode_get_configuration, decode_get_configuration),
    m.ChangeConfiguration: Operation("ChangeConfiguration", encode_change_configuration, decode_status),
    m.UpdateFirmware: Operation("UpdateFirmware", encode_update_firmware, decode_empty),
    m.SignedUpdateFirmware: Operation("SignedUpdateFirmware", encode_signed_update_firmware, decode_status),
    m.GetDiagnostics: Operation("GetDiagnostics", encode_get_diagnostics, decode_get_diagnostics),
    m.GetLog: Operation("GetLog", encode_get_log, decode_get_log),
    m.InstallCertificate: Operation("InstallCertificate", encode_install_certificate, decode_status),
    m.GetInstalledCertificateIds: Operation(
        "GetInstalledCertificateIds", encode_get_installed_certificate_ids, decode_get_installed_certificate_ids
    ),
    m.DeleteCertificate: Operation("DeleteCertificate", encode_delete_certificate, decode_status),
    m.CertificateSigned: Operation("CertificateSigned", encode_certificate_signed, decode_status),
    m.GetLocalListVersion: Operation("GetLocalListVersion", encode_nothing, decode_get_local_list_version),
    m.SendLocalList: Operation("SendLocalList", encode_send_local_list, decode_status),
    m.ReserveNow: Operation("ReserveNow", encode_reserve_now, decode_status),
    m.CancelReservation: Operation("CancelReservation", encode_cancel_reservation, decode_status),
    m.SetChargingProfile: Operation("SetChargingProfile", encode_set_charging_profile, decode_status),
    m.ClearChargingProfile: Operation("ClearChargingProfile", encode_clear_charging_profile, decode_status),
    m.GetCompositeSchedule: Operation("GetCompositeSchedule", encode_get_composite_schedule, decode_get_composite_schedule),
}


class V16Commands:
    """The :class:`~kilowatt.ocpp.execute.CommandCodec` of OCPP 1.6."""

    def encode(self, command: m.Command) -> tuple[str, dict[str, Any]]:
        operation = self._operation(command)
        return operation.action, operation.encode(command)

    def decode(self, command: m.Command, payload: dict[str, Any]) -> m.Result:
        return self._operation(command).decode(payload)

    def actions(self) -> frozenset[str]:
        """The OCPP actions this codec sends (docs/ocpp-coverage.md is generated from it)."""
        return frozenset(operation.action for operation in OPERATIONS.values())

    @staticmethod
    def _operation(command: m.Command) -> Operation[Any]:
        try:
            return OPERATIONS[type(command)]
        except KeyError:
            raise CannotEncode(f"OCPP 1.6 has no operation {type(command).__name__}") from None
