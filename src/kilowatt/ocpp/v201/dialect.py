"""OCPP 2.0.1 on the wire: subprotocol, actions per direction, error code spellings, schemas."""

from __future__ import annotations

from kilowatt.rpc.bounds import IntegerBounds
from kilowatt.rpc.errors import ErrorKind
from kilowatt.rpc.protocol import Dialect
from kilowatt.rpc.schemas import SchemaSet

SUBPROTOCOL = "ocpp2.0.1"

# OCPP 2.0.1 Part 2, the messages a Charging Station sends (DataTransfer goes both ways).
STATION_ACTIONS = frozenset(
    {
        "Authorize",
        "BootNotification",
        "ClearedChargingLimit",
        "DataTransfer",
        "FirmwareStatusNotification",
        "Get15118EVCertificate",
        "GetCertificateStatus",
        "Heartbeat",
        "LogStatusNotification",
        "MeterValues",
        "NotifyChargingLimit",
        "NotifyCustomerInformation",
        "NotifyDisplayMessages",
        "NotifyEVChargingNeeds",
        "NotifyEVChargingSchedule",
        "NotifyEvent",
        "NotifyMonitoringReport",
        "NotifyReport",
        "PublishFirmwareStatusNotification",
        "ReportChargingProfiles",
        "ReservationStatusUpdate",
        "SecurityEventNotification",
        "SignCertificate",
        "StatusNotification",
        "TransactionEvent",
    }
)

# The messages the CSMS sends.
CSMS_ACTIONS = frozenset(
    {
        "CancelReservation",
        "CertificateSigned",
        "ChangeAvailability",
        "ClearCache",
        "ClearChargingProfile",
        "ClearDisplayMessage",
        "ClearVariableMonitoring",
        "CostUpdated",
        "CustomerInformation",
        "DataTransfer",
        "DeleteCertificate",
        "GetBaseReport",
        "GetChargingProfiles",
        "GetCompositeSchedule",
        "GetDisplayMessages",
        "GetInstalledCertificateIds",
        "GetLocalListVersion",
        "GetLog",
        "GetMonitoringReport",
        "GetReport",
        "GetTransactionStatus",
        "GetVariables",
        "InstallCertificate",
        "PublishFirmware",
        "RequestStartTransaction",
        "RequestStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "SetDisplayMessage",
        "SetMonitoringBase",
        "SetMonitoringLevel",
        "SetNetworkProfile",
        "SetVariableMonitoring",
        "SetVariables",
        "TriggerMessage",
        "UnlockConnector",
        "UnpublishFirmware",
        "UpdateFirmware",
    }
)

# OCPP-J 2.0.1 (Part 4) section 4.3: every kind has a code of its own.
ERROR_CODES = {
    ErrorKind.NOT_IMPLEMENTED: "NotImplemented",
    ErrorKind.NOT_SUPPORTED: "NotSupported",
    ErrorKind.INTERNAL: "InternalError",
    ErrorKind.PROTOCOL: "ProtocolError",
    ErrorKind.SECURITY: "SecurityError",
    ErrorKind.FORMAT: "FormatViolation",
    ErrorKind.PROPERTY_CONSTRAINT: "PropertyConstraintViolation",
    ErrorKind.OCCURRENCE_CONSTRAINT: "OccurrenceConstraintViolation",
    ErrorKind.TYPE_CONSTRAINT: "TypeConstraintViolation",
    ErrorKind.GENERIC: "GenericError",
    ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "MessageTypeNotSupported",
    ErrorKind.RPC_FRAMEWORK: "RpcFrameworkError",
}

# 2.0.1 defines its integer as 32-bit signed, the default. EVSE and connector ids get the same
# plausibility bound as 1.6 connector ids; meter readings are decimals in 2.0.1, not integers.
MAX_EVSE_ID = 1000
INTEGER_BOUNDS = IntegerBounds(fields={"evseId": (0, MAX_EVSE_ID), "connectorId": (0, MAX_EVSE_ID), "seqNo": (0, 2**31 - 1)})

DIALECT = Dialect(
    subprotocol=SUBPROTOCOL,
    error_codes=ERROR_CODES,
    schemas=SchemaSet("ocpp", "v201/schemas", "{action}Request.json", "{action}Response.json", INTEGER_BOUNDS),
    station_actions=STATION_ACTIONS,
    csms_actions=CSMS_ACTIONS,
)
