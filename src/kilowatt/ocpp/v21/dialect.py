"""OCPP 2.1 on the wire: 2.0.1's actions and error codes plus the 27 messages 2.1 adds.

The schemas are 2.1's own (many 2.0.1 messages gained optional fields), the rest is 2.0.1's.
"""

from __future__ import annotations

from kilowatt.ocpp.v201 import dialect as v201
from kilowatt.rpc import frames
from kilowatt.rpc.protocol import Dialect
from kilowatt.rpc.schemas import SchemaSet

SUBPROTOCOL = "ocpp2.1"

# Messages 2.1 adds that a Charging Station sends. NotifyPeriodicEventStream is a SEND (message
# type 6): it has no response.
STATION_ACTIONS_ADDED = frozenset(
    {
        "BatterySwap",
        "ClosePeriodicEventStream",
        "GetCertificateChainStatus",
        "NotifyDERAlarm",
        "NotifyDERStartStop",
        "NotifyPeriodicEventStream",
        "NotifyPriorityCharging",
        "NotifySettlement",
        "OpenPeriodicEventStream",
        "PullDynamicScheduleUpdate",
        "ReportDERControl",
        "VatNumberValidation",
    }
)

# Messages 2.1 adds that the CSMS sends.
CSMS_ACTIONS_ADDED = frozenset(
    {
        "AFRRSignal",
        "AdjustPeriodicEventStream",
        "ChangeTransactionTariff",
        "ClearDERControl",
        "ClearTariffs",
        "GetDERControl",
        "GetPeriodicEventStream",
        "GetTariffs",
        "NotifyAllowedEnergyTransfer",
        "NotifyWebPaymentStarted",
        "RequestBatterySwap",
        "SetDERControl",
        "SetDefaultTariff",
        "UpdateDynamicSchedule",
        "UsePriorityCharging",
    }
)

# SEND messages: answered by nothing, not even a CALLERROR (OCPP-J 2.1 section 4.2.4).
SEND_ACTIONS = frozenset({"NotifyPeriodicEventStream"})

STATION_ACTIONS = v201.STATION_ACTIONS | STATION_ACTIONS_ADDED
CSMS_ACTIONS = v201.CSMS_ACTIONS | CSMS_ACTIONS_ADDED

DIALECT = Dialect(
    subprotocol=SUBPROTOCOL,
    error_codes=v201.ERROR_CODES,
    schemas=SchemaSet(
        "ocpp",
        "v21/schemas",
        "{action}Request.json",
        "{action}Response.json",
        v201.INTEGER_BOUNDS,
        request_files={action: f"{action}.json" for action in SEND_ACTIONS},
    ),
    station_actions=STATION_ACTIONS,
    csms_actions=CSMS_ACTIONS,
    message_types=frames.MESSAGE_TYPES_21,
    send_actions=SEND_ACTIONS,
)
