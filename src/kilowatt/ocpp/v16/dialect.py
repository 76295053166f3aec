"""OCPP 1.6J on the wire: subprotocol, actions per direction, error code spellings, schemas."""

from __future__ import annotations

from kilowatt.rpc.bounds import IntegerBounds
from kilowatt.rpc.errors import ErrorKind
from kilowatt.rpc.protocol import Dialect
from kilowatt.rpc.schemas import SchemaSet
from kilowatt.services.transactions import MAX_ENERGY_WH

SUBPROTOCOL = "ocpp1.6"

# Core, firmware, local list, reservation, trigger, smart charging and the security whitepaper.
STATION_ACTIONS = frozenset(
    {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        "LogStatusNotification",
        "SecurityEventNotification",
        "SignCertificate",
        "SignedFirmwareStatusNotification",
    }
)

CSMS_ACTIONS = frozenset(
    {
        "CancelReservation",
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "ClearChargingProfile",
        "DataTransfer",
        "GetCompositeSchedule",
        "GetConfiguration",
        "GetDiagnostics",
        "GetLocalListVersion",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "ReserveNow",
        "Reset",
        "SendLocalList",
        "SetChargingProfile",
        "TriggerMessage",
        "UnlockConnector",
        "UpdateFirmware",
        "CertificateSigned",
        "DeleteCertificate",
        "ExtendedTriggerMessage",
        "GetInstalledCertificateIds",
        "GetLog",
        "InstallCertificate",
        "SignedUpdateFirmware",
    }
)

# OCPP-J 1.6 section 4.2.3. Note the spec's own spellings: "FormationViolation" (not
# FormatViolation, which is 2.0.1) and "OccurenceConstraintViolation" (one r).
ERROR_CODES = {
    ErrorKind.NOT_IMPLEMENTED: "NotImplemented",
    ErrorKind.NOT_SUPPORTED: "NotSupported",
    ErrorKind.INTERNAL: "InternalError",
    ErrorKind.PROTOCOL: "ProtocolError",
    ErrorKind.SECURITY: "SecurityError",
    ErrorKind.FORMAT: "FormationViolation",
    ErrorKind.PROPERTY_CONSTRAINT: "PropertyConstraintViolation",
    ErrorKind.OCCURRENCE_CONSTRAINT: "OccurenceConstraintViolation",
    ErrorKind.TYPE_CONSTRAINT: "TypeConstraintViolation",
    ErrorKind.GENERIC: "GenericError",
    # 1.6 has no code of its own for these; an unreadable frame does not conform to the PDU.
    ErrorKind.MESSAGE_TYPE_NOT_SUPPORTED: "FormationViolation",
    ErrorKind.RPC_FRAMEWORK: "FormationViolation",
}

# Every integer is 32-bit signed (what 1.6 implementations use, and 2.0.1's definition), except:
# connector ids, which no station has thousands of, and the energy registers, which are Wh and
# outgrow 32 bits (2.1 GWh: a busy DC charger's lifetime), stored as 64-bit. Out of range is
# PropertyConstraintViolation; docs/ocpp16.md lists the bounds.
MAX_CONNECTOR_ID = 1000
MAX_METER_WH = MAX_ENERGY_WH  # what the transaction service counts as a register reading
INTEGER_BOUNDS = IntegerBounds(
    fields={
        "connectorId": (0, MAX_CONNECTOR_ID),
        "meterStart": (0, MAX_METER_WH),
        "meterStop": (0, MAX_METER_WH),
    }
)

DIALECT = Dialect(
    subprotocol=SUBPROTOCOL,
    error_codes=ERROR_CODES,
    schemas=SchemaSet("ocpp", "v16/schemas", "{action}.json", "{action}Response.json", INTEGER_BOUNDS),
    station_actions=STATION_ACTIONS,
    csms_actions=CSMS_ACTIONS,
)
