"""Settings, read from the environment (``KILOWATT_*``) as 12-factor asks.

Everything a process needs to know about its deployment comes from here, so one image runs
anywhere: laptop, compose, Kubernetes. Nothing else in the code reads ``os.environ``.
"""

from __future__ import annotations

import enum
import os
import secrets
import socket

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class UnknownStationPolicy(str, enum.Enum):
    """What the gateway does with a station id it has never seen."""

    reject = "reject"  # refuse the WebSocket handshake with HTTP 404
    accept = "accept"  # register it and accept its BootNotification
    pending = "pending"  # register it, answer BootNotification Pending until an operator accepts


class EventLoop(str, enum.Enum):
    """The asyncio event loop implementation ``kilowatt serve`` and ``kilowatt demo`` run on."""

    auto = "auto"  # uvloop when it can be imported, else asyncio's own
    asyncio = "asyncio"
    uvloop = "uvloop"  # required: start-up fails if uvloop cannot be imported


class Role(str, enum.Enum):
    """Which parts of the CSMS one process runs (``kilowatt serve --role``)."""

    all = "all"  # everything in one process (the default; SQLite is fine)
    gateway = "gateway"  # station sockets only
    api = "api"  # the HTTP API only
    worker = "worker"  # background jobs only (reservation expiry, the outbox relay); no listening socket


def default_node_id() -> str:
    """``host-pid-random``: unique per process, also for several processes on one host.

    The host name alone made two processes on one machine the same node, so each one's start-up
    reset the stations the other held. The random part keeps a restarted process with a recycled
    pid (a container's pid 1, every time) from taking its predecessor's name.
    """
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"  # fits the 64-character columns


class Settings(BaseSettings):
    """The deployment's configuration. Field ``foo`` is read from ``KILOWATT_FOO``."""

    model_config = SettingsConfigDict(env_prefix="KILOWATT_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./kilowatt.db"
    redis_url: str | None = Field(
        None,
        description="Redis (redis://host:port/db) for several processes: the bus between gateway, api and "
        "worker nodes; unset, the bus is in-process (one node)",
    )
    sqlite_cache_mib: int = Field(
        64,
        ge=1,
        description="SQLite page cache of the process's connection (MiB): a busy fleet's meter-value "
        "indexes are read back from the file when it is too small; ignored on PostgreSQL",
    )
    host: str = "0.0.0.0"
    ocpp_port: int = Field(9000, ge=0, le=65535)
    http_port: int = Field(8000, ge=0, le=65535)
    admin_token: str | None = None
    log_level: str = "INFO"
    unknown_stations: UnknownStationPolicy = UnknownStationPolicy.reject
    event_loop: EventLoop = EventLoop.auto

    heartbeat_interval_s: int = Field(300, ge=1, description="Interval sent in BootNotification.conf")
    boot_retry_interval_s: int = Field(
        60, ge=1, description="Interval sent to a Pending or Rejected station: when to boot again"
    )
    data_transfer_vendors: list[str] = Field(
        default_factory=list, description="vendorIds whose DataTransfer messages are stored and Accepted"
    )
    configuration_fetch_delay_s: float = Field(
        10.0,
        ge=0,
        description="GetConfiguration after an accepted boot waits a random 0..this many seconds, so a boot storm is not doubled",
    )
    ws_ping_interval_s: float = Field(
        60.0, ge=0, description="A dead socket is noticed within this many seconds (0 disables)"
    )
    ws_open_timeout_s: float = Field(
        60.0,
        gt=0,
        description="How long a new socket may take to complete its WebSocket handshake; in a boot storm "
        "handshakes queue for seconds, and dropping them only makes every charger connect again",
    )
    max_frame_bytes: int = Field(256 * 1024, ge=1024, description="Largest accepted WebSocket frame")
    call_timeout_s: float = Field(30.0, gt=0, description="How long a CSMS->station CALL waits")
    call_queue_size: int = Field(16, ge=1, description="Queued CSMS->station CALLs per station")
    duplicate_probe_timeout_s: float = Field(
        5.0, gt=0, description="How long the old socket has to answer a ping when a station reconnects"
    )
    reservation_sweep_interval_s: float = Field(
        10.0, gt=0, description="How often Accepted reservations past their expiry date are marked Expired"
    )
    node_id: str = Field(
        default_factory=default_node_id,
        min_length=1,
        max_length=64,
        description="This process's name in the station registry, leases and the outbox; unique per process "
        "(default: host name, process id and a random suffix)",
    )
    node_heartbeat_interval_s: float = Field(
        10.0,
        gt=0,
        description="How often a process says it is alive (the nodes table); one silent for 3 intervals is "
        "taken for dead and its stations are marked disconnected",
    )
    shutdown_timeout_s: float = Field(
        20.0,
        gt=0,
        description="On SIGTERM: how long closing the sockets and finishing the writes in flight may take; "
        "past it the process exits with status 1",
    )
    lease_ttl_s: float = Field(
        15.0,
        gt=0,
        description="A periodic job's lease lasts this long unless renewed: when its holder dies, another "
        "process takes the job over within this time (at least 3 x the job's interval)",
    )
    redis_presence_ttl_s: float = Field(
        15.0,
        gt=0,
        description="With Redis: a node's claim on a station's socket expires after this long unless refreshed; "
        "a node that died stops receiving the station's commands after at most this long",
    )
    redis_refresh_s: float = Field(
        5.0, gt=0, description="With Redis: how often a node refreshes its stations' presence entries (below the TTL)"
    )
    redis_op_timeout_s: float = Field(
        2.0,
        gt=0,
        description="With Redis: how long one Redis operation may take before it counts as failed (a command "
        "then fails with 503 instead of hanging)",
    )
    redis_call_margin_s: float = Field(
        1.0,
        ge=0,
        description="With Redis: how much longer than a command's timeout a caller waits for another node's answer",
    )
    outbox_relay_interval_s: float = Field(
        1.0, gt=0, description="How often the outbox relay looks for events their writer did not publish"
    )
    outbox_grace_s: float = Field(
        10.0,
        gt=0,
        description="An outbox event its writer has not marked sent after this long is published by the relay "
        "(the writer died between commit and publish)",
    )

    @model_validator(mode="after")
    def _presence_is_refreshed_before_it_expires(self) -> Settings:
        """A refresh period at or past the TTL lets every station's presence lapse between refreshes:
        commands from other nodes would find them offline. Refused at start, with the reason."""
        if self.redis_refresh_s >= self.redis_presence_ttl_s:
            raise ValueError(
                f"KILOWATT_REDIS_REFRESH_S ({self.redis_refresh_s:g}) must be below KILOWATT_REDIS_PRESENCE_TTL_S "
                f"({self.redis_presence_ttl_s:g}): presence entries would expire between refreshes"
            )
        return self
