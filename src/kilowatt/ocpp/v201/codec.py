"""The typed commands as OCPP 2.0.1 CALLs.

One encoder and one decoder per operation, registered in :data:`OPERATIONS` (a module-level dict
that OCPP 2.1 extends), and an explicit map for every enum — also where the spellings agree, so a
value the domain adds is a visible gap here and never a silent pass-through.

Targets: ``evse_id`` and ``connector_id`` are 2.0.1's own (EVSEs and connectors numbered from 1;
EVSE 0 or None is the station as a whole). A transaction is named by the station's own
transactionId (``TransactionRef.station_transaction_id``), which the API resolves from ours.
Id tokens carry a type in 2.0.1: a remote start without one presents ``Central`` (a token the CSMS
vouches for), anything else ``ISO14443`` (the API's default type of a registered token).

Commands 2.0.1 cannot carry are refused as :class:`CannotEncode` (the API's 422) before anything is
sent: 1.6's configuration keys (``GetConfiguration``/``ChangeConfiguration``: a 2.0.1 station has a
device model, read and written with ``GetVariables``/``SetVariables``), 1.6's unsigned
``UpdateFirmware`` and ``GetDiagnostics`` (2.0.1 needs a requestId: use ``SignedUpdateFirmware``
and ``GetLog``). A 2.0.1 answer's ``statusInfo`` is kept in the raw answer the command log and the
API return.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kilowatt.commands import model as m
from kilowatt.ocpp.execute import CannotEncode
from kilowatt.ocpp.operations import Operation, OperationCodec, reverse
from kilowatt.ocpp.timestamps import parse_time
from kilowatt.services.common import rfc3339

VERSION = "2.0.1"

# --- enum maps (domain -> 2.0.1) ----------------------------------------------------------------

RESET_TYPE: dict[m.ResetMode, str] = {m.ResetMode.IMMEDIATE: "Immediate", m.ResetMode.ON_IDLE: "OnIdle"}
OPERATIONAL_STATUS: dict[bool, str] = {True: "Operative", False: "Inoperative"}
MESSAGE_TRIGGER: dict[m.MessageTrigger, str] = {
    m.MessageTrigger.BOOT_NOTIFICATION: "BootNotification",
    m.MessageTrigger.LOG_STATUS_NOTIFICATION: "LogStatusNotification",
    m.MessageTrigger.FIRMWARE_STATUS_NOTIFICATION: "FirmwareStatusNotification",
    m.MessageTrigger.HEARTBEAT: "Heartbeat",
    m.MessageTrigger.METER_VALUES: "MeterValues",
    m.MessageTrigger.SIGN_CHARGING_STATION_CERTIFICATE: "SignChargingStationCertificate",
    m.MessageTrigger.SIGN_V2G_CERTIFICATE: "SignV2GCertificate",
    m.MessageTrigger.STATUS_NOTIFICATION: "StatusNotification",
    m.MessageTrigger.TRANSACTION_EVENT: "TransactionEvent",
    m.MessageTrigger.SIGN_COMBINED_CERTIFICATE: "SignCombinedCertificate",
    m.MessageTrigger.PUBLISH_FIRMWARE_STATUS_NOTIFICATION: "PublishFirmwareStatusNotification",
}  # DiagnosticsStatusNotification is 1.6's: 2.0.1 reports diagnostics uploads as LogStatusNotification
LOG_TYPE: dict[m.LogType, str] = {m.LogType.DIAGNOSTICS: "DiagnosticsLog", m.LogType.SECURITY: "SecurityLog"}
INSTALL_CERTIFICATE_USE: dict[m.CertificateUse, str] = {
    m.CertificateUse.V2G_ROOT: "V2GRootCertificate",
    m.CertificateUse.MO_ROOT: "MORootCertificate",
    m.CertificateUse.CSMS_ROOT: "CSMSRootCertificate",
    m.CertificateUse.MANUFACTURER_ROOT: "ManufacturerRootCertificate",
}  # a V2G certificate chain is the station's own, listed but never installed by the CSMS
CERTIFICATE_SIGNING_USE: dict[m.CertificateSigningUse, str] = {
    m.CertificateSigningUse.CHARGING_STATION: "ChargingStationCertificate",
    m.CertificateSigningUse.V2G: "V2GCertificate",
}  # V2G20Certificate is 2.1's
CERTIFICATE_ID_USE: dict[m.CertificateUse, str] = {
    **INSTALL_CERTIFICATE_USE,
    m.CertificateUse.V2G_CERTIFICATE_CHAIN: "V2GCertificateChain",
}
HASH_ALGORITHM: dict[m.HashAlgorithm, str] = {
    m.HashAlgorithm.SHA256: "SHA256",
    m.HashAlgorithm.SHA384: "SHA384",
    m.HashAlgorithm.SHA512: "SHA512",
}
PROFILE_PURPOSE: dict[m.ChargingProfilePurpose, str] = {
    m.ChargingProfilePurpose.CHARGING_STATION_MAX: "ChargingStationMaxProfile",
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
ID_TOKEN_TYPE: dict[m.IdTokenType, str] = {
    m.IdTokenType.CENTRAL: "Central",
    m.IdTokenType.EMAID: "eMAID",
    m.IdTokenType.ISO14443: "ISO14443",
    m.IdTokenType.ISO15693: "ISO15693",
    m.IdTokenType.KEY_CODE: "KeyCode",
    m.IdTokenType.LOCAL: "Local",
    m.IdTokenType.MAC_ADDRESS: "MacAddress",
    m.IdTokenType.NO_AUTHORIZATION: "NoAuthorization",
}
ATTRIBUTE_TYPE: dict[m.AttributeType, str] = {
    m.AttributeType.ACTUAL: "Actual",
    m.AttributeType.TARGET: "Target",
    m.AttributeType.MIN_SET: "MinSet",
    m.AttributeType.MAX_SET: "MaxSet",
}
REPORT_BASE: dict[m.ReportBase, str] = {
    m.ReportBase.CONFIGURATION_INVENTORY: "ConfigurationInventory",
    m.ReportBase.FULL_INVENTORY: "FullInventory",
    m.ReportBase.SUMMARY_INVENTORY: "SummaryInventory",
}
COMPONENT_CRITERION: dict[m.ComponentCriterion, str] = {
    m.ComponentCriterion.ACTIVE: "Active",
    m.ComponentCriterion.AVAILABLE: "Available",
    m.ComponentCriterion.ENABLED: "Enabled",
    m.ComponentCriterion.PROBLEM: "Problem",
}
MONITOR_TYPE: dict[m.MonitorType, str] = {
    m.MonitorType.UPPER_THRESHOLD: "UpperThreshold",
    m.MonitorType.LOWER_THRESHOLD: "LowerThreshold",
    m.MonitorType.DELTA: "Delta",
    m.MonitorType.PERIODIC: "Periodic",
    m.MonitorType.PERIODIC_CLOCK_ALIGNED: "PeriodicClockAligned",
}
MONITORING_BASE: dict[m.MonitoringBase, str] = {
    m.MonitoringBase.ALL: "All",
    m.MonitoringBase.FACTORY_DEFAULT: "FactoryDefault",
    m.MonitoringBase.HARD_WIRED_ONLY: "HardWiredOnly",
}
MONITORING_CRITERION: dict[m.MonitoringCriterion, str] = {
    m.MonitoringCriterion.THRESHOLD: "ThresholdMonitoring",
    m.MonitoringCriterion.DELTA: "DeltaMonitoring",
    m.MonitoringCriterion.PERIODIC: "PeriodicMonitoring",
}
CHARGING_LIMIT_SOURCE: dict[m.ChargingLimitSource, str] = {
    m.ChargingLimitSource.EMS: "EMS",
    m.ChargingLimitSource.OTHER: "Other",
    m.ChargingLimitSource.SO: "SO",
    m.ChargingLimitSource.CSO: "CSO",
}
MESSAGE_PRIORITY: dict[m.MessagePriority, str] = {
    m.MessagePriority.ALWAYS_FRONT: "AlwaysFront",
    m.MessagePriority.IN_FRONT: "InFront",
    m.MessagePriority.NORMAL_CYCLE: "NormalCycle",
}
MESSAGE_STATE: dict[m.MessageState, str] = {
    m.MessageState.CHARGING: "Charging",
    m.MessageState.FAULTED: "Faulted",
    m.MessageState.IDLE: "Idle",
    m.MessageState.UNAVAILABLE: "Unavailable",
}
MESSAGE_FORMAT: dict[m.MessageFormat, str] = {
    m.MessageFormat.ASCII: "ASCII",
    m.MessageFormat.HTML: "HTML",
    m.MessageFormat.URI: "URI",
    m.MessageFormat.UTF8: "UTF8",
}
OCPP_INTERFACE: dict[m.OcppInterface, str] = {
    m.OcppInterface.WIRED0: "Wired0",
    m.OcppInterface.WIRED1: "Wired1",
    m.OcppInterface.WIRED2: "Wired2",
    m.OcppInterface.WIRED3: "Wired3",
    m.OcppInterface.WIRELESS0: "Wireless0",
    m.OcppInterface.WIRELESS1: "Wireless1",
    m.OcppInterface.WIRELESS2: "Wireless2",
    m.OcppInterface.WIRELESS3: "Wireless3",
}
OCPP_TRANSPORT: dict[m.OcppTransport, str] = {m.OcppTransport.JSON: "JSON", m.OcppTransport.SOAP: "SOAP"}
NETWORK_OCPP_VERSION: dict[m.NetworkOcppVersion, str] = {
    m.NetworkOcppVersion.OCPP12: "OCPP12",
    m.NetworkOcppVersion.OCPP15: "OCPP15",
    m.NetworkOcppVersion.OCPP16: "OCPP16",
    m.NetworkOcppVersion.OCPP20: "OCPP20",
}
APN_AUTHENTICATION: dict[m.ApnAuthentication, str] = {
    m.ApnAuthentication.CHAP: "CHAP",
    m.ApnAuthentication.NONE: "NONE",
    m.ApnAuthentication.PAP: "PAP",
    m.ApnAuthentication.AUTO: "AUTO",
}
VPN_TYPE: dict[m.VpnType, str] = {
    m.VpnType.IKEV2: "IKEv2",
    m.VpnType.IPSEC: "IPSec",
    m.VpnType.L2TP: "L2TP",
    m.VpnType.PPTP: "PPTP",
}

HASH_ALGORITHM_OF = reverse(HASH_ALGORITHM)
RATE_UNIT_OF = reverse(RATE_UNIT)
ATTRIBUTE_TYPE_OF = reverse(ATTRIBUTE_TYPE)
MONITOR_TYPE_OF = reverse(MONITOR_TYPE)

# Which id token type a token without one is presented as (see the module docstring).
REMOTE_START_TOKEN_TYPE = m.IdTokenType.CENTRAL
DEFAULT_TOKEN_TYPE = m.IdTokenType.ISO14443


def _spell(mapping: Mapping[Any, str], value: Any, what: str) -> str:
    try:
        return mapping[value]
    except KeyError:
        raise CannotEncode(f"OCPP {VERSION} has no {what} {getattr(value, 'value', value)!r}") from None


def _optional(payload: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """``payload`` with the ``fields`` that are not None (2.0.1 omits absent optional fields)."""
    payload.update((name, value) for name, value in fields.items() if value is not None)
    return payload


def _time(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None


def _evse(evse_id: int | None, connector_id: int | None) -> dict[str, Any] | None:
    """An EVSEType, or None for the station as a whole (EVSE 0 or None)."""
    if not evse_id:
        if connector_id is not None:
            raise CannotEncode("a connector_id needs the evse_id of the EVSE it belongs to")
        return None
    return _optional({"id": evse_id}, connectorId=connector_id)


def _id_token(id_token: str, kind: m.IdTokenType | None, default: m.IdTokenType = DEFAULT_TOKEN_TYPE) -> dict[str, Any]:
    return {"idToken": id_token, "type": ID_TOKEN_TYPE[kind or default]}


def _station_transaction_id(transaction: m.TransactionRef, operation: str) -> str:
    if transaction.station_transaction_id is None:
        raise CannotEncode(
            f"OCPP {VERSION} {operation} names a transaction by the station's own transactionId, and transaction "
            f"{transaction.id} has none (not a transaction this station reported in OCPP 2.0.1)"
        )
    return transaction.station_transaction_id


def _component(component: m.ComponentRef) -> dict[str, Any]:
    return _optional({"name": component.name}, instance=component.instance, evse=_evse(component.evse_id, component.connector_id))


def _variable(variable: m.VariableRef) -> dict[str, Any]:
    return _optional({"name": variable.name}, instance=variable.instance)


def _component_variable(item: m.ComponentVariable) -> dict[str, Any]:
    return _optional({"component": _component(item.component)}, variable=_variable(item.variable) if item.variable else None)


def _non_empty(items: list[Any]) -> list[Any] | None:
    """2.0.1 arrays have minItems 1: an empty criterion list is left out."""
    return items or None


# --- encoders -----------------------------------------------------------------------------------


def _schedule(schedule: m.ChargingSchedule, schedule_id: int) -> dict[str, Any]:
    periods = [
        _optional({"startPeriod": p.start_period_s, "limit": p.limit}, numberPhases=p.number_phases) for p in schedule.periods
    ]
    return _optional(
        {"id": schedule_id, "chargingRateUnit": RATE_UNIT[schedule.charging_rate_unit], "chargingSchedulePeriod": periods},
        duration=schedule.duration_s,
        startSchedule=_time(schedule.start_schedule),
        minChargingRate=schedule.min_charging_rate,
    )


def _profile(profile: m.ChargingProfile) -> dict[str, Any]:
    """A ChargingProfileType. Its one schedule takes the profile's id (2.0.1 numbers schedules too).

    2.0.1 names a TxProfile's transaction by the station's id (``station_transaction_id``, which the
    API resolves from ours); a transaction the station never named (a 1.6 one) cannot be sent."""
    if profile.transaction_id is not None and profile.station_transaction_id is None:
        raise CannotEncode(
            f"OCPP {VERSION} names a TxProfile's transaction by the station's transactionId, and transaction "
            f"{profile.transaction_id} has none (not started over OCPP 2.0.1 or later)"
        )
    return _optional(
        {
            "id": profile.charging_profile_id,
            "stackLevel": profile.stack_level,
            "chargingProfilePurpose": PROFILE_PURPOSE[profile.purpose],
            "chargingProfileKind": PROFILE_KIND[profile.kind],
            "chargingSchedule": [_schedule(profile.charging_schedule, profile.charging_profile_id)],
        },
        recurrencyKind=RECURRENCY_KIND[profile.recurrency_kind] if profile.recurrency_kind else None,
        validFrom=_time(profile.valid_from),
        validTo=_time(profile.valid_to),
        transactionId=profile.station_transaction_id,
    )


def _hash_data(data: m.CertificateHashData) -> dict[str, Any]:
    return {
        "hashAlgorithm": HASH_ALGORITHM[data.hash_algorithm],
        "issuerNameHash": data.issuer_name_hash,
        "issuerKeyHash": data.issuer_key_hash,
        "serialNumber": data.serial_number,
    }


def encode_reset(c: m.Reset) -> dict[str, Any]:
    return _optional({"type": RESET_TYPE[c.mode]}, evseId=c.evse_id or None)


def encode_request_start(c: m.RemoteStart) -> dict[str, Any]:
    return _optional(
        {"idToken": _id_token(c.id_token, c.id_token_type, REMOTE_START_TOKEN_TYPE), "remoteStartId": c.remote_start_id},
        evseId=c.evse_id or None,
        chargingProfile=_profile(c.charging_profile) if c.charging_profile else None,
    )


def encode_request_stop(c: m.RemoteStop) -> dict[str, Any]:
    return {"transactionId": _station_transaction_id(c.transaction, "RequestStopTransaction")}


def encode_unlock(c: m.UnlockConnector) -> dict[str, Any]:
    if not c.evse_id or c.connector_id is None:
        raise CannotEncode(f"OCPP {VERSION} unlocks one connector of one EVSE: give evse_id (1 or more) and connector_id")
    return {"evseId": c.evse_id, "connectorId": c.connector_id}


def encode_change_availability(c: m.ChangeAvailability) -> dict[str, Any]:
    return _optional({"operationalStatus": OPERATIONAL_STATUS[c.operative]}, evse=_evse(c.evse_id, c.connector_id))


def encode_trigger(c: m.TriggerMessage | m.ExtendedTriggerMessage) -> dict[str, Any]:
    requested = _spell(MESSAGE_TRIGGER, c.requested_message, "TriggerMessage for")
    return _optional({"requestedMessage": requested}, evse=_evse(c.evse_id, c.connector_id))


def encode_nothing(c: m.Command) -> dict[str, Any]:
    return {}


def encode_data_transfer(c: m.DataTransfer) -> dict[str, Any]:
    return _optional({"vendorId": c.vendor_id}, messageId=c.message_id, data=c.data)


def encode_update_firmware(c: m.SignedUpdateFirmware) -> dict[str, Any]:
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


def encode_get_log(c: m.GetLog) -> dict[str, Any]:
    log = _optional(
        {"remoteLocation": c.remote_location},
        oldestTimestamp=_time(c.oldest_timestamp),
        latestTimestamp=_time(c.latest_timestamp),
    )
    return _optional(
        {"logType": LOG_TYPE[c.log_type], "requestId": c.request_id, "log": log},
        retries=c.retries,
        retryInterval=c.retry_interval_s,
    )


def encode_install_certificate(c: m.InstallCertificate) -> dict[str, Any]:
    return {
        "certificateType": _spell(INSTALL_CERTIFICATE_USE, c.certificate_type, "certificate type to install"),
        "certificate": c.certificate,
    }


def encode_get_installed_certificate_ids(c: m.GetInstalledCertificateIds) -> dict[str, Any]:
    return {"certificateType": [CERTIFICATE_ID_USE[c.certificate_type]]}


def encode_delete_certificate(c: m.DeleteCertificate) -> dict[str, Any]:
    return {"certificateHashData": _hash_data(c.certificate_hash_data)}


def encode_certificate_signed(c: m.CertificateSigned) -> dict[str, Any]:
    certificate_type = c.certificate_type and _spell(CERTIFICATE_SIGNING_USE, c.certificate_type, "certificate type to sign")
    return _optional({"certificateChain": c.certificate_chain}, certificateType=certificate_type)


def encode_send_local_list(c: m.SendLocalList) -> dict[str, Any]:
    """An entry without status removes the token: an AuthorizationData without idTokenInfo."""
    entries = []
    for entry in c.entries:
        item: dict[str, Any] = {"idToken": _id_token(entry.id_token, entry.id_token_type)}
        if entry.status is not None:
            group = _id_token(entry.parent_id_token, entry.parent_id_token_type) if entry.parent_id_token else None
            item["idTokenInfo"] = _optional(
                {"status": AUTHORIZATION_STATUS[entry.status]}, cacheExpiryDateTime=_time(entry.expiry_date), groupIdToken=group
            )
        entries.append(item)
    return _optional(
        {"versionNumber": c.list_version, "updateType": UPDATE_TYPE[c.update_type]}, localAuthorizationList=_non_empty(entries)
    )


def encode_reserve_now(c: m.ReserveNow) -> dict[str, Any]:
    group = _id_token(c.parent_id_token, c.parent_id_token_type) if c.parent_id_token else None
    return _optional(
        {"id": c.reservation_id, "expiryDateTime": rfc3339(c.expiry_date), "idToken": _id_token(c.id_token, c.id_token_type)},
        evseId=c.evse_id or None,  # 2.0.1: no EVSE reserves the station's next free one
        groupIdToken=group,
    )


def encode_cancel_reservation(c: m.CancelReservation) -> dict[str, Any]:
    return {"reservationId": c.reservation_id}


def encode_set_charging_profile(c: m.SetChargingProfile) -> dict[str, Any]:
    return {"evseId": c.evse_id, "chargingProfile": _profile(c.charging_profile)}


def encode_clear_charging_profile(c: m.ClearChargingProfile) -> dict[str, Any]:
    criteria = _optional(
        {}, evseId=c.evse_id, chargingProfilePurpose=PROFILE_PURPOSE[c.purpose] if c.purpose else None, stackLevel=c.stack_level
    )
    return _optional({}, chargingProfileId=c.charging_profile_id, chargingProfileCriteria=criteria or None)


def encode_get_composite_schedule(c: m.GetCompositeSchedule) -> dict[str, Any]:
    unit = RATE_UNIT[c.charging_rate_unit] if c.charging_rate_unit else None
    return _optional({"evseId": c.evse_id, "duration": c.duration_s}, chargingRateUnit=unit)


def encode_get_variables(c: m.GetVariables) -> dict[str, Any]:
    if not c.variables:
        raise CannotEncode("GetVariables needs at least one variable")
    return {
        "getVariableData": [
            _optional(
                {"component": _component(v.component), "variable": _variable(v.variable)},
                attributeType=ATTRIBUTE_TYPE[v.attribute_type] if v.attribute_type else None,
            )
            for v in c.variables
        ]
    }


def encode_set_variables(c: m.SetVariables) -> dict[str, Any]:
    if not c.variables:
        raise CannotEncode("SetVariables needs at least one variable")
    return {
        "setVariableData": [
            _optional(
                {"attributeValue": v.value, "component": _component(v.component), "variable": _variable(v.variable)},
                attributeType=ATTRIBUTE_TYPE[v.attribute_type] if v.attribute_type else None,
            )
            for v in c.variables
        ]
    }


def encode_get_base_report(c: m.GetBaseReport) -> dict[str, Any]:
    return {"requestId": c.request_id, "reportBase": REPORT_BASE[c.report_base]}


def encode_get_report(c: m.GetReport) -> dict[str, Any]:
    return _optional(
        {"requestId": c.request_id},
        componentCriteria=_non_empty([COMPONENT_CRITERION[x] for x in c.criteria]),
        componentVariable=_non_empty([_component_variable(x) for x in c.component_variables]),
    )


def encode_set_variable_monitoring(c: m.SetVariableMonitoring) -> dict[str, Any]:
    if not c.monitors:
        raise CannotEncode("SetVariableMonitoring needs at least one monitor")
    return {
        "setMonitoringData": [
            _optional(
                {
                    "value": x.value,
                    "type": MONITOR_TYPE[x.kind],
                    "severity": x.severity,
                    "component": _component(x.component),
                    "variable": _variable(x.variable),
                },
                id=x.monitor_id,
                transaction=x.transaction,
            )
            for x in c.monitors
        ]
    }


def encode_clear_variable_monitoring(c: m.ClearVariableMonitoring) -> dict[str, Any]:
    if not c.monitor_ids:
        raise CannotEncode("ClearVariableMonitoring needs at least one monitor id")
    return {"id": list(c.monitor_ids)}


def encode_set_monitoring_base(c: m.SetMonitoringBase) -> dict[str, Any]:
    return {"monitoringBase": MONITORING_BASE[c.monitoring_base]}


def encode_set_monitoring_level(c: m.SetMonitoringLevel) -> dict[str, Any]:
    return {"severity": c.severity}


def encode_get_monitoring_report(c: m.GetMonitoringReport) -> dict[str, Any]:
    return _optional(
        {"requestId": c.request_id},
        monitoringCriteria=_non_empty([MONITORING_CRITERION[x] for x in c.criteria]),
        componentVariable=_non_empty([_component_variable(x) for x in c.component_variables]),
    )


def encode_get_charging_profiles(c: m.GetChargingProfiles) -> dict[str, Any]:
    criteria = c.criteria
    criterion = _optional(
        {},
        chargingProfilePurpose=PROFILE_PURPOSE[criteria.purpose] if criteria.purpose else None,
        stackLevel=criteria.stack_level,
        chargingProfileId=_non_empty(list(criteria.charging_profile_ids)),
        chargingLimitSource=_non_empty([CHARGING_LIMIT_SOURCE[x] for x in criteria.limit_sources]),
    )
    return _optional({"requestId": c.request_id, "chargingProfile": criterion}, evseId=c.evse_id)


def encode_publish_firmware(c: m.PublishFirmware) -> dict[str, Any]:
    return _optional(
        {"location": c.location, "checksum": c.checksum, "requestId": c.request_id},
        retries=c.retries,
        retryInterval=c.retry_interval_s,
    )


def encode_unpublish_firmware(c: m.UnpublishFirmware) -> dict[str, Any]:
    return {"checksum": c.checksum}


def encode_set_network_profile(c: m.SetNetworkProfile) -> dict[str, Any]:
    p = c.profile
    apn = (
        _optional(
            {"apn": p.apn.apn, "apnAuthentication": APN_AUTHENTICATION[p.apn.authentication]},
            apnUserName=p.apn.user_name,
            apnPassword=p.apn.password,
            simPin=p.apn.sim_pin,
            preferredNetwork=p.apn.preferred_network,
            useOnlyPreferredNetwork=p.apn.use_only_preferred_network,
        )
        if p.apn
        else None
    )
    vpn = (
        _optional(
            {
                "server": p.vpn.server,
                "user": p.vpn.user,
                "password": p.vpn.password,
                "key": p.vpn.key,
                "type": VPN_TYPE[p.vpn.kind],
            },
            group=p.vpn.group,
        )
        if p.vpn
        else None
    )
    connection = _optional(
        {
            "ocppVersion": NETWORK_OCPP_VERSION[p.ocpp_version],
            "ocppTransport": OCPP_TRANSPORT[p.ocpp_transport],
            "ocppCsmsUrl": p.csms_url,
            "messageTimeout": p.message_timeout_s,
            "securityProfile": p.security_profile,
            "ocppInterface": OCPP_INTERFACE[p.ocpp_interface],
        },
        apn=apn,
        vpn=vpn,
    )
    return {"configurationSlot": c.configuration_slot, "connectionData": connection}


def encode_customer_information(c: m.CustomerInformation) -> dict[str, Any]:
    named = [x for x in (c.customer_identifier, c.id_token, c.customer_certificate) if x is not None]
    if len(named) != 1:
        raise CannotEncode(
            "CustomerInformation names the customer by exactly one of customer_identifier, id_token, customer_certificate"
        )
    return _optional(
        {"requestId": c.request_id, "report": c.report, "clear": c.clear},
        customerIdentifier=c.customer_identifier,
        idToken=_id_token(c.id_token, c.id_token_type) if c.id_token is not None else None,
        customerCertificate=_hash_data(c.customer_certificate) if c.customer_certificate else None,
    )


def encode_get_transaction_status(c: m.GetTransactionStatus) -> dict[str, Any]:
    if c.transaction is None:
        return {}
    return {"transactionId": _station_transaction_id(c.transaction, "GetTransactionStatus")}


def encode_set_display_message(c: m.SetDisplayMessage) -> dict[str, Any]:
    message = c.message
    content = _optional({"format": MESSAGE_FORMAT[message.format], "content": message.content}, language=message.language)
    transaction_id = _station_transaction_id(message.transaction, "SetDisplayMessage") if message.transaction else None
    return {
        "message": _optional(
            {"id": message.message_id, "priority": MESSAGE_PRIORITY[message.priority], "message": content},
            state=MESSAGE_STATE[message.state] if message.state else None,
            startDateTime=_time(message.start_at),
            endDateTime=_time(message.end_at),
            transactionId=transaction_id,
            display=_component(message.display) if message.display else None,
        )
    }


def encode_get_display_messages(c: m.GetDisplayMessages) -> dict[str, Any]:
    return _optional(
        {"requestId": c.request_id},
        id=_non_empty(list(c.message_ids)),
        priority=MESSAGE_PRIORITY[c.priority] if c.priority else None,
        state=MESSAGE_STATE[c.state] if c.state else None,
    )


def encode_clear_display_message(c: m.ClearDisplayMessage) -> dict[str, Any]:
    return {"id": c.message_id}


def encode_cost_updated(c: m.CostUpdated) -> dict[str, Any]:
    return {"totalCost": c.total_cost, "transactionId": _station_transaction_id(c.transaction, "CostUpdated")}


def cannot(reason: str):  # noqa: ANN201 - an encoder
    """An encoder for a command 2.0.1 has no operation for, saying what to use instead."""

    def refuse(c: m.Command) -> dict[str, Any]:
        raise CannotEncode(f"OCPP {VERSION} has no {type(c).__name__}: {reason}")

    return refuse


# --- decoders -----------------------------------------------------------------------------------


def decode_status(payload: dict[str, Any]) -> m.StatusResult:
    return m.StatusResult(payload["status"])


def decode_empty(payload: dict[str, Any]) -> m.EmptyResult:
    return m.EmptyResult()


def decode_request_start(c: m.RemoteStart, payload: dict[str, Any]) -> m.RemoteStartResult:
    return m.RemoteStartResult(payload["status"], c.remote_start_id, payload.get("transactionId"))


def decode_data_transfer(payload: dict[str, Any]) -> m.DataTransferResult:
    """2.0.1 data is any JSON value; the domain keeps text, so a non-string comes back as its JSON."""
    data = payload.get("data")
    if data is not None and not isinstance(data, str):
        data = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return m.DataTransferResult(payload["status"], data)


def decode_get_log(payload: dict[str, Any]) -> m.GetLogResult:
    return m.GetLogResult(payload["status"], payload.get("filename"))


def _decode_hash(h: dict[str, Any]) -> m.CertificateHashData:
    return m.CertificateHashData(
        HASH_ALGORITHM_OF[h["hashAlgorithm"]], h["issuerNameHash"], h["issuerKeyHash"], h["serialNumber"]
    )


def decode_get_installed_certificate_ids(payload: dict[str, Any]) -> m.GetInstalledCertificateIdsResult:
    """Each chain's own certificate; its children (the chain's sub-CAs) are in the raw answer."""
    chains = payload.get("certificateHashDataChain") or ()
    return m.GetInstalledCertificateIdsResult(
        payload["status"], tuple(_decode_hash(chain["certificateHashData"]) for chain in chains)
    )


def decode_get_local_list_version(payload: dict[str, Any]) -> m.GetLocalListVersionResult:
    return m.GetLocalListVersionResult(payload["versionNumber"])


def decode_get_composite_schedule(payload: dict[str, Any]) -> m.GetCompositeScheduleResult:
    schedule = payload.get("schedule")
    if schedule is None:
        return m.GetCompositeScheduleResult(payload["status"])
    return m.GetCompositeScheduleResult(
        payload["status"],
        schedule["evseId"],
        parse_time(schedule["scheduleStart"], "scheduleStart"),
        m.ChargingSchedule(
            RATE_UNIT_OF[schedule["chargingRateUnit"]],
            tuple(
                m.ChargingSchedulePeriod(
                    p["startPeriod"],
                    p.get("limit"),  # required in 2.0.1, optional in 2.1
                    p.get("numberPhases"),
                    setpoint=p.get("setpoint"),
                    discharge_limit=p.get("dischargeLimit"),
                )
                for p in schedule["chargingSchedulePeriod"]
            ),
            schedule["duration"],
        ),
    )


def _decode_component(data: dict[str, Any]) -> m.ComponentRef:
    evse = data.get("evse") or {}
    return m.ComponentRef(data["name"], data.get("instance"), evse.get("id"), evse.get("connectorId"))


def _decode_variable(data: dict[str, Any]) -> m.VariableRef:
    return m.VariableRef(data["name"], data.get("instance"))


def _reason(item: dict[str, Any], field: str) -> str | None:
    info = item.get(field)
    return info["reasonCode"] if info else None


def _attribute_type(item: dict[str, Any]) -> m.AttributeType | None:
    spelled = item.get("attributeType")
    return ATTRIBUTE_TYPE_OF[spelled] if spelled is not None else None


def decode_get_variables(payload: dict[str, Any]) -> m.GetVariablesResult:
    return m.GetVariablesResult(
        tuple(
            m.VariableReading(
                _decode_component(item["component"]),
                _decode_variable(item["variable"]),
                item["attributeStatus"],
                _attribute_type(item),
                item.get("attributeValue"),
                _reason(item, "attributeStatusInfo"),
            )
            for item in payload["getVariableResult"]
        )
    )


def decode_set_variables(payload: dict[str, Any]) -> m.SetVariablesResult:
    return m.SetVariablesResult(
        tuple(
            m.VariableChange(
                _decode_component(item["component"]),
                _decode_variable(item["variable"]),
                item["attributeStatus"],
                _attribute_type(item),
                _reason(item, "attributeStatusInfo"),
            )
            for item in payload["setVariableResult"]
        )
    )


def decode_set_variable_monitoring(payload: dict[str, Any]) -> m.SetVariableMonitoringResult:
    return m.SetVariableMonitoringResult(
        tuple(
            m.MonitorOutcome(
                _decode_component(item["component"]),
                _decode_variable(item["variable"]),
                MONITOR_TYPE_OF[item["type"]],
                item["severity"],
                item["status"],
                item.get("id"),
            )
            for item in payload["setMonitoringResult"]
        )
    )


def decode_clear_variable_monitoring(payload: dict[str, Any]) -> m.ClearVariableMonitoringResult:
    return m.ClearVariableMonitoringResult(
        tuple(m.ClearedMonitor(item["id"], item["status"]) for item in payload["clearMonitoringResult"])
    )


def decode_get_transaction_status(payload: dict[str, Any]) -> m.GetTransactionStatusResult:
    return m.GetTransactionStatusResult(payload["messagesInQueue"], payload.get("ongoingIndicator"))


# --- the registry -------------------------------------------------------------------------------

OPERATIONS: dict[type[m.Command], Operation[Any]] = {
    m.Reset: Operation("Reset", encode_reset, decode_status),
    m.RemoteStart: Operation("RequestStartTransaction", encode_request_start, decode_request_start, needs_command=True),
    m.RemoteStop: Operation("RequestStopTransaction", encode_request_stop, decode_status),
    m.UnlockConnector: Operation("UnlockConnector", encode_unlock, decode_status),
    m.ChangeAvailability: Operation("ChangeAvailability", encode_change_availability, decode_status),
    m.TriggerMessage: Operation("TriggerMessage", encode_trigger, decode_status),
    m.ExtendedTriggerMessage: Operation("TriggerMessage", encode_trigger, decode_status),  # 2.0.1 folds it in
    m.ClearCache: Operation("ClearCache", encode_nothing, decode_status),
    m.DataTransfer: Operation("DataTransfer", encode_data_transfer, decode_data_transfer),
    m.GetConfiguration: Operation(
        "GetVariables",
        cannot("a 2.0.1 station has a device model: GET/PATCH /stations/{id}/variables, POST /stations/{id}/variables/get"),
        decode_status,
    ),
    m.ChangeConfiguration: Operation(
        "SetVariables", cannot("a 2.0.1 station has a device model: PATCH /stations/{id}/variables (SetVariables)"), decode_status
    ),
    m.UpdateFirmware: Operation(
        "UpdateFirmware", cannot("2.0.1 firmware updates carry a requestId and a signature: use firmware/signed"), decode_status
    ),
    m.SignedUpdateFirmware: Operation("UpdateFirmware", encode_update_firmware, decode_status),
    m.GetDiagnostics: Operation(
        "GetLog", cannot("2.0.1 uploads diagnostics with GetLog (DiagnosticsLog): use logs"), decode_status
    ),
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
    m.GetVariables: Operation("GetVariables", encode_get_variables, decode_get_variables),
    m.SetVariables: Operation("SetVariables", encode_set_variables, decode_set_variables),
    m.GetBaseReport: Operation("GetBaseReport", encode_get_base_report, decode_status),
    m.GetReport: Operation("GetReport", encode_get_report, decode_status),
    m.SetVariableMonitoring: Operation("SetVariableMonitoring", encode_set_variable_monitoring, decode_set_variable_monitoring),
    m.ClearVariableMonitoring: Operation(
        "ClearVariableMonitoring", encode_clear_variable_monitoring, decode_clear_variable_monitoring
    ),
    m.SetMonitoringBase: Operation("SetMonitoringBase", encode_set_monitoring_base, decode_status),
    m.SetMonitoringLevel: Operation("SetMonitoringLevel", encode_set_monitoring_level, decode_status),
    m.GetMonitoringReport: Operation("GetMonitoringReport", encode_get_monitoring_report, decode_status),
    m.GetChargingProfiles: Operation("GetChargingProfiles", encode_get_charging_profiles, decode_status),
    m.PublishFirmware: Operation("PublishFirmware", encode_publish_firmware, decode_status),
    m.UnpublishFirmware: Operation("UnpublishFirmware", encode_unpublish_firmware, decode_status),
    m.SetNetworkProfile: Operation("SetNetworkProfile", encode_set_network_profile, decode_status),
    m.CustomerInformation: Operation("CustomerInformation", encode_customer_information, decode_status),
    m.GetTransactionStatus: Operation("GetTransactionStatus", encode_get_transaction_status, decode_get_transaction_status),
    m.SetDisplayMessage: Operation("SetDisplayMessage", encode_set_display_message, decode_status),
    m.GetDisplayMessages: Operation("GetDisplayMessages", encode_get_display_messages, decode_status),
    m.ClearDisplayMessage: Operation("ClearDisplayMessage", encode_clear_display_message, decode_status),
    m.CostUpdated: Operation("CostUpdated", encode_cost_updated, decode_empty),
}


class V201Commands(OperationCodec):
    """The :class:`~kilowatt.ocpp.execute.CommandCodec` of OCPP 2.0.1.

    OCPP 2.1 subclasses it with ``operations = {**OPERATIONS, ...}`` and its own ``version``.
    """

    version = VERSION
    operations = OPERATIONS
