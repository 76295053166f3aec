"""The device model a simulated 2.0.1/2.1 station reports, and which of its variables act.

Components and variable names are the standardized ones (OCPP 2.0.1 Part 2, appendix 3, and the
referenced components of each functional block). Variables whose change the simulator honours say
so with ``apply`` — the heartbeat interval, the meter sample interval and measurands, offline
transactions, transaction message retries, remote-start authorization, the Basic-auth password —
the rest are stored and reported back, as a charger without that feature would do. Live values
(power now, availability, the clock) are computed when read, so a report never drifts from what
the station does.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from kilowatt.simulator.clock import timestamp
from kilowatt.simulator.device_model import Attribute, Mutability, Variable
from kilowatt.simulator.model import ConnectorStatus

if TYPE_CHECKING:
    from kilowatt.simulator.v201 import V201Adapter

RO, RW, WO = Mutability.READ_ONLY, Mutability.READ_WRITE, Mutability.WRITE_ONLY

MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "Power.Offered",
    "Current.Import",
    "Current.Offered",
    "Voltage",
    "SoC",
)
MEASURAND_LIST = ",".join(MEASURANDS)
DEFAULT_UPDATED_MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import"
DEFAULT_STARTED_MEASURANDS = "Energy.Active.Import.Register"
ITEMS_PER_MESSAGE = 50  # GetVariables / SetVariables / GetReport items a station takes in one message
REPORT_ITEMS_PER_PART = 20  # NotifyReport entries per part: a full inventory takes several parts
MIN_CHARGING_POWER_W = 4_140  # 6 A on three phases at 230 V: the least a car may be offered (IEC 61851)

_AVAILABILITY = {
    ConnectorStatus.AVAILABLE: "Available",
    ConnectorStatus.RESERVED: "Reserved",
    ConnectorStatus.UNAVAILABLE: "Unavailable",
    ConnectorStatus.FAULTED: "Faulted",
}


def connector_status(status: ConnectorStatus) -> str:
    """2.0.1 ConnectorStatusEnumType: 1.6's Preparing, Charging, Suspended* and Finishing are all Occupied."""
    return _AVAILABILITY.get(status, "Occupied")


# --- what a change does ---------------------------------------------------------------------


def _set_heartbeat(adapter: V201Adapter, value: str) -> None:
    adapter.station.set_heartbeat_interval(float(value))


def _set_meter_interval(adapter: V201Adapter, value: str) -> None:
    adapter.station.set_meter_interval(float(value))


def _measurands(value: str) -> tuple[str, ...]:
    return tuple(m.strip() for m in value.split(",") if m.strip())


def _set_updated_measurands(adapter: V201Adapter, value: str) -> None:
    adapter.updated_measurands = _measurands(value)


def _set_started_measurands(adapter: V201Adapter, value: str) -> None:
    adapter.started_measurands = _measurands(value)


def _set_ended_measurands(adapter: V201Adapter, value: str) -> None:
    adapter.ended_measurands = _measurands(value)


def _set_offline_tx(adapter: V201Adapter, value: str) -> None:
    adapter.station.allow_offline_tx = value == "true"


def _set_attempts(adapter: V201Adapter, value: str) -> None:
    adapter.station.transaction_message_attempts = max(1, int(value))


def _set_attempt_interval(adapter: V201Adapter, value: str) -> None:
    adapter.station.transaction_retry_s = float(value)


def _set_password(adapter: V201Adapter, value: str) -> None:
    adapter.station.password = value  # used from the next connection on, as a charger does


# --- live values ------------------------------------------------------------------------------


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _power_w(a: V201Adapter, v: Variable) -> str:
    model = a.station.model
    connectors = model.connectors if v.evse_id is None else [c for c in model.connectors if c.connector_id == v.evse_id]
    return f"{sum(c.session.power_w for c in connectors if c.session is not None):.1f}"


def _limit_w(a: V201Adapter, v: Variable) -> str:
    station = a.station
    connectors = station.model.connectors if v.evse_id is None else [station.model.connector(v.evse_id)]
    return f"{sum(station.limit_w(c, c.session) for c in connectors if c is not None):.1f}"


def _max_power_w(a: V201Adapter, v: Variable) -> str:
    per_connector = a.station.config.max_power_w
    count = 1 if v.evse_id is not None else len(a.station.model.connectors)
    return f"{per_connector * count:.1f}"


def _availability_state(a: V201Adapter, v: Variable) -> str:
    model = a.station.model
    if v.evse_id is None:
        return "Available" if model.operative else "Unavailable"
    connector = model.connector(v.evse_id)
    return connector_status(connector.status) if connector is not None else "Unavailable"


def _available(a: V201Adapter, v: Variable) -> str:
    model = a.station.model
    if v.evse_id is None:
        return _bool(model.operative)
    connector = model.connector(v.evse_id)
    return _bool(connector is not None and connector.operative and model.operative)


def _problem(a: V201Adapter, v: Variable) -> str:
    model = a.station.model
    if v.evse_id is None:
        return _bool(any(c.error_code is not None for c in model.connectors))
    connector = model.connector(v.evse_id)
    return _bool(connector is not None and connector.error_code is not None)


def _ro(component: str, name: str, data_type: str, value: Any, **kw: Any) -> Variable:
    return Variable(component, name, data_type, (Attribute(mutability=RO, value=value, constant=isinstance(value, str)),), **kw)


def _rw(component: str, name: str, data_type: str, value: Any, **kw: Any) -> Variable:
    return Variable(component, name, data_type, (Attribute(mutability=RW, value=value),), **kw)


@lru_cache(maxsize=16)
def variables(connectors: int) -> tuple[Variable, ...]:
    """Every variable of a station with ``connectors`` EVSEs of one connector each (shared, immutable)."""
    station_wide = [
        # ChargingStation: the whole station
        _ro("ChargingStation", "Available", "boolean", _available),
        _ro("ChargingStation", "AvailabilityState", "OptionList", _availability_state, values_list="Available,Unavailable"),
        _ro("ChargingStation", "Problem", "boolean", _problem),
        _ro("ChargingStation", "SupplyPhases", "integer", "3", min_limit=0, max_limit=3),
        _ro("ChargingStation", "Model", "string", lambda a, v: a.station.config.model[:20], max_limit=20),
        _ro("ChargingStation", "VendorName", "string", lambda a, v: a.station.config.vendor[:50], max_limit=50),
        Variable(
            "ChargingStation",
            "Power",
            "decimal",
            (Attribute("Actual", RO, _power_w, persistent=False), Attribute("MaxSet", RO, _max_power_w)),
            unit="W",
            min_limit=0,
        ),
        # OCPPCommCtrlr: how the station talks to the CSMS
        _rw(
            "OCPPCommCtrlr",
            "HeartbeatInterval",
            "integer",
            lambda a, v: str(int(a.station.model.heartbeat_interval_s)),
            unit="s",
            min_limit=0,
            max_limit=86_400,
            apply=_set_heartbeat,
        ),  # fmt: skip
        _rw(
            "OCPPCommCtrlr",
            "MessageTimeout",
            "integer",
            lambda a, v: str(int(a.station.config.call_timeout_s)),
            instance="Default",
            unit="s",
            min_limit=1,
        ),  # fmt: skip
        _rw(
            "OCPPCommCtrlr",
            "MessageAttempts",
            "integer",
            lambda a, v: str(a.station.transaction_message_attempts),
            instance="TransactionEvent",
            min_limit=1,
            max_limit=100,
            apply=_set_attempts,
        ),  # fmt: skip
        _rw(
            "OCPPCommCtrlr",
            "MessageAttemptInterval",
            "integer",
            lambda a, v: str(int(a.station.transaction_retry_s)),
            instance="TransactionEvent",
            unit="s",
            min_limit=0,
            max_limit=3600,
            apply=_set_attempt_interval,
        ),  # fmt: skip
        _rw("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "integer", "3", min_limit=1),
        _rw("OCPPCommCtrlr", "OfflineThreshold", "integer", "60", unit="s", min_limit=0),
        _rw("OCPPCommCtrlr", "ResetRetries", "integer", "1", min_limit=0),
        _rw("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "boolean", "true"),
        _rw("OCPPCommCtrlr", "WebSocketPingInterval", "integer", "0", unit="s", min_limit=0),
        _ro("OCPPCommCtrlr", "NetworkConfigurationPriority", "SequenceList", "1"),
        _ro("OCPPCommCtrlr", "FileTransferProtocols", "MemberList", "HTTPS", values_list="FTP,FTPS,HTTP,HTTPS,SFTP"),
        # SecurityCtrlr: identity and credentials
        _rw("SecurityCtrlr", "OrganizationName", "string", "Kilowatt", max_limit=64),
        _ro("SecurityCtrlr", "Identity", "string", lambda a, v: a.station.station_id, max_limit=48),
        _ro(
            "SecurityCtrlr",
            "SecurityProfile",
            "integer",
            lambda a, v: "1" if a.station.password else "0",
            min_limit=0,
            max_limit=3,
        ),  # fmt: skip
        Variable(
            "SecurityCtrlr",
            "BasicAuthPassword",
            "string",
            (Attribute(mutability=WO, value=""),),
            min_limit=16,
            max_limit=40,
            apply=_set_password,
        ),  # fmt: skip
        _ro("SecurityCtrlr", "CertificateEntries", "integer", "0"),
        # AuthCtrlr: who may charge
        _ro("AuthCtrlr", "Enabled", "boolean", "true"),
        _rw("AuthCtrlr", "AuthorizeRemoteStart", "boolean", "false"),
        _rw("AuthCtrlr", "LocalAuthorizeOffline", "boolean", "true"),
        _rw("AuthCtrlr", "LocalPreAuthorize", "boolean", "false"),
        _rw(
            "AuthCtrlr",
            "OfflineTxForUnknownIdEnabled",
            "boolean",
            lambda a, v: _bool(a.station.allow_offline_tx),
            apply=_set_offline_tx,
        ),  # fmt: skip
        _rw("AuthCacheCtrlr", "Enabled", "boolean", "false"),
        _ro("LocalAuthListCtrlr", "Enabled", "boolean", "true"),
        _ro("LocalAuthListCtrlr", "Entries", "integer", lambda a, v: "0"),
        _ro("ReservationCtrlr", "Enabled", "boolean", "true"),
        _ro("ReservationCtrlr", "NonEvseSpecific", "boolean", "false"),
        # TxCtrlr: when transactions start and stop
        _rw("TxCtrlr", "EVConnectionTimeOut", "integer", "60", unit="s", min_limit=0),
        _rw("TxCtrlr", "StopTxOnInvalidId", "boolean", "true"),
        _rw("TxCtrlr", "StopTxOnEVSideDisconnect", "boolean", "true"),
        _rw("TxCtrlr", "MaxEnergyOnInvalidId", "integer", "0", unit="Wh", min_limit=0),
        _ro(
            "TxCtrlr",
            "TxStartPoint",
            "MemberList",
            "Authorized",
            values_list="ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer",
        ),  # fmt: skip
        _ro(
            "TxCtrlr",
            "TxStopPoint",
            "MemberList",
            "Authorized",
            values_list="ParkingBayOccupancy,EVConnected,Authorized,DataSigned,PowerPathClosed,EnergyTransfer",
        ),  # fmt: skip
        # SampledDataCtrlr: what the meter reports
        _ro("SampledDataCtrlr", "Enabled", "boolean", "true"),
        _rw(
            "SampledDataCtrlr",
            "TxUpdatedInterval",
            "integer",
            lambda a, v: str(int(a.station.model.meter_values_interval_s)),
            unit="s",
            min_limit=0,
            max_limit=86_400,
            apply=_set_meter_interval,
        ),  # fmt: skip
        _rw(
            "SampledDataCtrlr",
            "TxUpdatedMeasurands",
            "MemberList",
            DEFAULT_UPDATED_MEASURANDS,
            values_list=MEASURAND_LIST,
            apply=_set_updated_measurands,
        ),  # fmt: skip
        _rw(
            "SampledDataCtrlr",
            "TxStartedMeasurands",
            "MemberList",
            DEFAULT_STARTED_MEASURANDS,
            values_list=MEASURAND_LIST,
            apply=_set_started_measurands,
        ),  # fmt: skip
        _rw(
            "SampledDataCtrlr",
            "TxEndedMeasurands",
            "MemberList",
            DEFAULT_STARTED_MEASURANDS,
            values_list=MEASURAND_LIST,
            apply=_set_ended_measurands,
        ),  # fmt: skip
        _rw("SampledDataCtrlr", "TxEndedInterval", "integer", "0", unit="s", min_limit=0),
        _rw("SampledDataCtrlr", "RegisterValuesWithoutPhases", "boolean", "true"),
        _rw("AlignedDataCtrlr", "Interval", "integer", "0", unit="s", min_limit=0),
        _rw("AlignedDataCtrlr", "Measurands", "MemberList", "", values_list=MEASURAND_LIST),
        # SmartChargingCtrlr: charging profiles
        _ro("SmartChargingCtrlr", "Enabled", "boolean", "true"),
        _ro(
            "SmartChargingCtrlr",
            "Entries",
            "integer",
            lambda a, v: str(len(a.station.model.profiles)),
            instance="ChargingProfiles",
        ),  # fmt: skip
        _ro("SmartChargingCtrlr", "ProfileStackLevel", "integer", "10", min_limit=0),
        _ro("SmartChargingCtrlr", "RateUnit", "MemberList", "A,W", values_list="A,W"),
        _ro("SmartChargingCtrlr", "PeriodsPerSchedule", "integer", "24"),
        _rw("SmartChargingCtrlr", "LimitChangeSignificance", "decimal", "0.1", min_limit=0, max_limit=1),
        # DeviceDataCtrlr: how much a CSMS may ask in one message
        _ro("DeviceDataCtrlr", "ItemsPerMessage", "integer", str(ITEMS_PER_MESSAGE), instance="GetReport"),
        _ro("DeviceDataCtrlr", "ItemsPerMessage", "integer", str(ITEMS_PER_MESSAGE), instance="GetVariables"),
        _ro("DeviceDataCtrlr", "ItemsPerMessage", "integer", str(ITEMS_PER_MESSAGE), instance="SetVariables"),
        _ro("DeviceDataCtrlr", "BytesPerMessage", "integer", "65000", instance="GetReport"),
        _ro("DeviceDataCtrlr", "BytesPerMessage", "integer", "65000", instance="GetVariables"),
        _ro("DeviceDataCtrlr", "BytesPerMessage", "integer", "65000", instance="SetVariables"),
        _ro("ClockCtrlr", "DateTime", "dateTime", lambda a, v: timestamp()),
        _rw(
            "ClockCtrlr",
            "TimeSource",
            "SequenceList",
            "Heartbeat",
            values_list="Heartbeat,NTP,GPS,RealTimeClock,MobileNetwork,RadioTimeTransmitter",
        ),
    ]
    per_evse: list[Variable] = []
    for evse_id in range(1, connectors + 1):
        per_evse += [
            _ro("EVSE", "Available", "boolean", _available, evse_id=evse_id),
            _ro(
                "EVSE",
                "AvailabilityState",
                "OptionList",
                _availability_state,
                evse_id=evse_id,
                values_list="Available,Occupied,Reserved,Unavailable,Faulted",
            ),  # fmt: skip
            _ro("EVSE", "Problem", "boolean", _problem, evse_id=evse_id),
            _ro("EVSE", "SupplyPhases", "integer", "3", evse_id=evse_id, min_limit=0, max_limit=3),
            Variable(
                "EVSE",
                "Power",
                "decimal",
                (
                    Attribute("Actual", RO, _power_w, persistent=False),
                    Attribute("Target", RO, _limit_w, persistent=False),
                    Attribute("MinSet", RO, f"{MIN_CHARGING_POWER_W:.1f}"),
                    Attribute("MaxSet", RO, _max_power_w),
                ),
                evse_id=evse_id,
                unit="W",
                min_limit=0,
            ),
            _ro("Connector", "Available", "boolean", _available, evse_id=evse_id, connector_id=1),
            _ro(
                "Connector",
                "AvailabilityState",
                "OptionList",
                _availability_state,
                evse_id=evse_id,
                connector_id=1,
                values_list="Available,Occupied,Reserved,Unavailable,Faulted",
            ),  # fmt: skip
            _ro("Connector", "ConnectorType", "string", "cType2", evse_id=evse_id, connector_id=1),
            _ro("Connector", "SupplyPhases", "integer", "3", evse_id=evse_id, connector_id=1, min_limit=0, max_limit=3),
        ]
    return (*station_wide, *per_evse)
