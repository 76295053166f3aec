"""What a simulated station and a fleet are told to do.

:class:`StationConfig` is behaviour only (no identity), so one instance serves a whole fleet;
identity (station id, URL, protocol, password) is given to each
:class:`~kilowatt.simulator.station.SimulatedStation` separately. Intervals are seconds, power is
watts, rates are per hour of wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SUPPORTED_PROTOCOLS = ("ocpp1.6", "ocpp2.0.1", "ocpp2.1")
MAX_ID_TOKEN_LENGTH = {"ocpp1.6": 20, "ocpp2.0.1": 36, "ocpp2.1": 255}  # IdToken (1.6 idTag) length per version
DEFAULT_ID_TOKENS = tuple(f"SIMTAG{n:04d}" for n in range(1, 11))


@dataclass(frozen=True, slots=True)
class FaultConfig:
    """Trouble to inject, each as a Poisson rate per station and hour (0 turns it off)."""

    drop_connection_per_h: float = 0.0  # the socket dies without a close frame
    offline_s: float = 0.0  # how long a dropped station stays away before it starts reconnecting
    error_per_h: float = 0.0  # a connector reports Faulted with one of ``error_codes``
    error_codes: tuple[str, ...] = ("GroundFailure", "HighTemperature", "OverCurrentFailure", "PowerMeterFailure")
    fault_duration_s: float = 60.0  # how long a connector stays Faulted
    meter_reset_per_h: float = 0.0  # a connector's energy register jumps back to 0

    @property
    def any(self) -> bool:
        return bool(self.drop_connection_per_h or self.error_per_h or self.meter_reset_per_h)


@dataclass(frozen=True, slots=True)
class StationConfig:
    """How every station of a fleet behaves."""

    connectors: int = 2
    max_power_w: float = 22_000.0  # per connector, before any charging profile
    heartbeat_interval_s: float = 300.0  # until the CSMS names its own in BootNotification.conf
    meter_values_interval_s: float = 60.0  # MeterValueSampleInterval; 0 sends none
    arrival_rate_per_h: float = 2.0  # drivers arriving at one station, Poisson
    session_length_s: float = 1800.0  # mean time a driver stays plugged in (uniform ±50 %)
    id_tokens: tuple[str, ...] = DEFAULT_ID_TOKENS
    id_token_type: str = "ISO14443"  # what kind of token drivers present (2.0.1 IdTokenEnumType)
    ev_ramp_s: float = 10.0  # seconds from first current to the car's full power
    unplug_delay_s: float = 5.0  # Finishing -> Available: the driver walks back and unplugs
    boot_retry_s: float = 30.0  # retry BootNotification after this when the CSMS gives interval 0
    reboot_s: float = 1.0  # how long a Reset takes before the station reconnects
    reconnect_min_s: float = 1.0  # first backoff after a lost connection; doubles up to the max
    reconnect_max_s: float = 60.0
    connect_timeout_s: float = 10.0
    call_timeout_s: float = 30.0
    ws_ping_interval_s: float | None = None  # the CSMS pings; websockets answers without our help
    boot_on_reconnect: bool = False  # a real charger boots after power-up, not after every reconnect
    allow_offline_tx: bool = True  # AllowOfflineTxForUnknownId: start sessions while offline
    transaction_message_attempts: int = 3  # deliveries of a transaction message answered with CALLERROR
    max_queued_messages: int = 10_000
    vendor: str = "Kilowatt"
    model: str = "Simulator"
    firmware_version: str = "kilowatt-sim-1"
    faults: FaultConfig = field(default_factory=FaultConfig)


@dataclass(frozen=True, slots=True)
class FleetConfig:
    """A fleet: how many stations, where they connect, and the behaviour they share."""

    url: str = "ws://127.0.0.1:9000/ocpp"
    stations: int = 1
    protocols: tuple[tuple[str, float], ...] = (("ocpp1.6", 1.0),)  # mix of protocol and weight
    id_prefix: str = "SIM-"
    password: str | None = None  # Basic auth (security profile 1/2), same for all stations
    duration_s: float | None = None  # None runs until stopped
    connect_rate_per_s: float = 200.0  # stations started per second: no thundering herd
    summary_interval_s: float | None = 5.0  # live line on stderr; None turns it off
    seed: int | None = None
    station: StationConfig = field(default_factory=StationConfig)

    def station_ids(self) -> list[str]:
        width = max(4, len(str(self.stations)))
        return [f"{self.id_prefix}{n:0{width}d}" for n in range(1, self.stations + 1)]

    def protocol_plan(self) -> list[str]:
        """Each station's protocol, spread by weight (largest remainder, deterministic)."""
        total = sum(weight for _, weight in self.protocols)
        if total <= 0:
            raise ValueError("protocol weights must add up to more than 0")
        shares = [(name, self.stations * weight / total) for name, weight in self.protocols]
        counts = {name: int(share) for name, share in shares}
        leftover = self.stations - sum(counts.values())
        for name, _share in sorted(shares, key=lambda s: s[1] - int(s[1]), reverse=True)[:leftover]:
            counts[name] += 1
        plan: list[str] = []
        for name, _ in self.protocols:
            plan.extend([name] * counts[name])
        return plan

    def validate(self) -> None:
        """Raise ``ValueError`` for settings no station could run with."""
        if self.stations < 0:
            raise ValueError("stations must be >= 0")
        for name, _ in self.protocols:
            if name not in SUPPORTED_PROTOCOLS:
                raise ValueError(f"protocol {name!r} is not simulated yet (supported: {', '.join(SUPPORTED_PROTOCOLS)})")
        if not self.url.startswith(("ws://", "wss://")):
            raise ValueError(f"CSMS URL must start with ws:// or wss://, got {self.url!r}")
        if self.station.connectors < 1:
            raise ValueError("a station needs at least one connector")
        if not self.station.id_tokens:
            raise ValueError("at least one id token is needed")
        for name, _ in self.protocols:
            limit = MAX_ID_TOKEN_LENGTH[name]
            if any(len(token) > limit for token in self.station.id_tokens):
                raise ValueError(f"{name} id tokens are at most {limit} characters")
        if self.connect_rate_per_s <= 0:
            raise ValueError("connect rate must be > 0")
