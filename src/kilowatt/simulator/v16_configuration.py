"""The OCPP 1.6 configuration keys a simulated station knows (spec section 9), and which ones act.

Keys whose change the simulator honours say so with ``apply``; the rest are stored and reported
back, as a charger without that feature would do. Read-only keys describe what the simulator
supports (feature profiles, smart charging limits).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kilowatt.simulator.configuration import KeyDefinition, KeyKind, definitions

if TYPE_CHECKING:
    from kilowatt.simulator.v16 import V16Adapter

MEASURANDS = frozenset(
    {
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Power.Offered",
        "Current.Import",
        "Current.Offered",
        "Voltage",
        "SoC",
    }
)
DEFAULT_MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import"


def _set_heartbeat(adapter: V16Adapter, value: str) -> None:
    adapter.station.set_heartbeat_interval(float(value))


def _set_meter_interval(adapter: V16Adapter, value: str) -> None:
    adapter.station.set_meter_interval(float(value))


def _set_measurands(adapter: V16Adapter, value: str) -> None:
    adapter.measurands = tuple(m.strip() for m in value.split(",") if m.strip())


def _set_offline_tx(adapter: V16Adapter, value: str) -> None:
    adapter.station.allow_offline_tx = value == "true"


def _set_attempts(adapter: V16Adapter, value: str) -> None:
    adapter.station.transaction_message_attempts = max(1, int(value))


def _set_retry_interval(adapter: V16Adapter, value: str) -> None:
    adapter.station.transaction_retry_s = float(value)


def _bool(name: str, default: bool, **kw: object) -> KeyDefinition:
    return KeyDefinition(name, KeyKind.BOOL, "true" if default else "false", **kw)  # type: ignore[arg-type]


def _int(name: str, default: int | str, **kw: object) -> KeyDefinition:
    return KeyDefinition(name, KeyKind.INT, str(default), **kw)  # type: ignore[arg-type]


KEYS = definitions(
    # Core profile
    KeyDefinition(
        "AllowOfflineTxForUnknownId",
        KeyKind.BOOL,
        lambda a: "true" if a.station.allow_offline_tx else "false",
        apply=_set_offline_tx,
    ),
    _bool("AuthorizationCacheEnabled", False),
    _bool("AuthorizeRemoteTxRequests", False),
    _int("ClockAlignedDataInterval", 0),
    _int("ConnectionTimeOut", 60),
    KeyDefinition("ConnectorPhaseRotation", KeyKind.CSL, "0.RST"),
    _int("GetConfigurationMaxKeys", 50, readonly=True),
    KeyDefinition(
        "HeartbeatInterval",
        KeyKind.INT,
        lambda a: str(int(a.station.model.heartbeat_interval_s)),
        apply=_set_heartbeat,
    ),
    _bool("LocalAuthorizeOffline", True),
    _bool("LocalPreAuthorize", False),
    KeyDefinition("MeterValuesAlignedData", KeyKind.CSL, "", allowed=MEASURANDS),
    KeyDefinition(
        "MeterValuesSampledData", KeyKind.CSL, DEFAULT_MEASURANDS, allowed=MEASURANDS, apply=_set_measurands
    ),
    _int("MeterValuesSampledDataMaxLength", len(MEASURANDS), readonly=True),
    KeyDefinition(
        "MeterValueSampleInterval",
        KeyKind.INT,
        lambda a: str(int(a.station.model.meter_values_interval_s)),
        apply=_set_meter_interval,
    ),
    KeyDefinition(
        "NumberOfConnectors", KeyKind.INT, lambda a: str(len(a.station.model.connectors)), readonly=True
    ),
    _int("ResetRetries", 1),
    _bool("StopTransactionOnEVSideDisconnect", True),
    _bool("StopTransactionOnInvalidId", True),
    KeyDefinition("StopTxnAlignedData", KeyKind.CSL, "", allowed=MEASURANDS),
    KeyDefinition("StopTxnSampledData", KeyKind.CSL, "", allowed=MEASURANDS),
    KeyDefinition(
        "SupportedFeatureProfiles",
        KeyKind.CSL,
        "Core,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
        readonly=True,
    ),
    KeyDefinition(
        "TransactionMessageAttempts",
        KeyKind.INT,
        lambda a: str(a.station.transaction_message_attempts),
        apply=_set_attempts,
        minimum=1,
    ),
    KeyDefinition(
        "TransactionMessageRetryInterval",
        KeyKind.INT,
        lambda a: str(int(a.station.transaction_retry_s)),
        apply=_set_retry_interval,
    ),
    _bool("UnlockConnectorOnEVSideDisconnect", True),
    _int("WebSocketPingInterval", 0),
    # Local auth list management
    _bool("LocalAuthListEnabled", True),
    _int("LocalAuthListMaxLength", 1000, readonly=True),
    _int("SendLocalListMaxLength", 100, readonly=True),
    # Reservation
    _bool("ReserveConnectorZeroSupported", False, readonly=True),
    # Smart charging
    _int("ChargeProfileMaxStackLevel", 10, readonly=True),
    KeyDefinition("ChargingScheduleAllowedChargingRateUnit", KeyKind.CSL, "Current,Power", readonly=True),
    _int("ChargingScheduleMaxPeriods", 24, readonly=True),
    _bool("ConnectorSwitch3to1PhaseSupported", False, readonly=True),
    _int("MaxChargingProfilesInstalled", 20, readonly=True),
)
