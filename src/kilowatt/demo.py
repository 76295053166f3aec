"""``kilowatt demo``: the CSMS and a small simulated fleet in one process, on a throw-away database.

The fleet is mixed, as real networks are: about half the stations speak OCPP 1.6, the others 2.0.1,
all on the same URL, landing in the same transactions, meter values and API shapes.

What a newcomer should see in a minute or two: stations connecting, drivers arriving, sessions
with meter values, commands sent through the REST API changing what a charger does, and at the end
a summary read back from the CSMS itself (what it stored, not what the simulator thinks it sent).

The database is SQLite in a temporary directory, removed at exit. Ports are the configured ones
(9000/8000 unless ``KILOWATT_OCPP_PORT``/``KILOWATT_HTTP_PORT`` say otherwise) when they are free,
and free ones when they are not; ``--ocpp-port 0`` / ``--http-port 0`` always pick free ones.
The commands go through the HTTP API with the admin token, exactly as a user would send them with
curl, so they show the API working, not an internal shortcut.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import shutil
import signal
import socket
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from kilowatt.app import Application
from kilowatt.config import Settings
from kilowatt.simulator import Fleet, FleetConfig, StationConfig, summary_line

HOST = "127.0.0.1"
STATION_PREFIX = "DEMO-"
DRIVER_TOKENS = tuple(f"DEMO-TAG-{n:02d}" for n in range(1, 21))
REMOTE_TOKEN = "DEMO-REMOTE"  # the id token the demo's remote start uses
PROFILE_LIMIT_W = 3_700  # what the demo's charging profile lowers a session to
CHARGING_PROFILES_PATH = "/api/v1/stations/{station_id}/charging-profiles"
FLEET_PROTOCOLS = (("ocpp1.6", 1.0), ("ocpp2.0.1", 1.0))  # half and half, 1.6 stations first
# The stations the demo's API commands go to: every version; the same routes and bodies reach both.
COMMAND_PROTOCOLS = ("ocpp1.6", "ocpp2.0.1")

# Everything short, so sessions start and end while someone watches.
DEMO_STATION = StationConfig(
    connectors=2,
    max_power_w=22_000,
    heartbeat_interval_s=60,
    meter_values_interval_s=5,
    arrival_rate_per_h=180,  # a driver every 20 s per station, on average
    session_length_s=45,  # 22 to 67 s plugged in
    id_tokens=DRIVER_TOKENS,
    ev_ramp_s=4,
    unplug_delay_s=3,
    reconnect_min_s=0.5,
    reconnect_max_s=5,
    call_timeout_s=15,
)


@dataclass
class DemoOptions:
    duration_s: float | None = None  # None: until Ctrl-C / SIGTERM
    stations: int = 5
    ocpp_port: int | None = None  # None: the configured port if free, else a free one; 0: a free one
    http_port: int | None = None
    seed: int | None = None
    summary_interval_s: float = 10.0
    protocols: tuple[tuple[str, float], ...] = FLEET_PROTOCOLS


@dataclass
class CommandLog:
    """What the demo asked of the stations through the API, and what they answered."""

    entries: list[tuple[str, str, str]] = field(default_factory=list)  # (operation, station, outcome)

    def add(self, operation: str, station_id: str, outcome: str, out: TextIO) -> None:
        self.entries.append((operation, station_id, outcome))
        print(f"  -> {operation} {station_id}: {outcome}", file=out, flush=True)


def port_or_free(host: str, wanted: int) -> int:
    """``wanted`` when it can be bound now, else 0 (the OS picks a free port)."""
    if wanted == 0:
        return 0
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, wanted))
        except OSError:
            return 0
    return wanted


class ApiClient:
    """A few JSON calls to our own API with the admin token (stdlib only: the demo needs no extra package)."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url
        self.token = token

    def _request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                return exc.code, json.loads(exc.read() or b"null")
            except ValueError:
                return exc.code, None

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        return await asyncio.to_thread(self._request, method, path, body)


def _outcome(status: int, answer: Any) -> str:
    if status == 200 and isinstance(answer, dict):
        return str(answer.get("status") or "answered")
    detail = answer.get("detail") if isinstance(answer, dict) else answer
    return f"HTTP {status} {detail}"


MAX_REMOTE_START_TRIES = 5


async def _idle_connectors(api: ApiClient, station_ids: list[str]) -> list[tuple[str, int]]:
    """The connectors the CSMS last saw Available, station by station."""
    idle = []
    for station_id in station_ids:
        status, station = await api.call("GET", f"/api/v1/stations/{station_id}")
        if status != 200:
            continue
        for connector in station.get("connectors", []):
            if connector.get("evse_id", 0) >= 1 and connector.get("status") == "Available":
                idle.append((station_id, connector["evse_id"]))
    return idle


async def _wait_for_transaction(api: ApiClient, station_id: str, id_token: str, timeout_s: float) -> dict[str, Any] | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        status, page = await api.call("GET", f"/api/v1/transactions?station_id={station_id}&id_token={id_token}&active=true")
        if status == 200 and page["items"]:
            return page["items"][0]
        await asyncio.sleep(0.5)
    return None


async def _latest_power_w(api: ApiClient, transaction_id: int) -> float | None:
    status, detail = await api.call("GET", f"/api/v1/transactions/{transaction_id}")
    if status != 200:
        return None
    power = [v["value_numeric"] for v in detail.get("meter_values", []) if v.get("measurand") == "Power.Active.Import"]
    return power[-1] if power and power[-1] is not None else None


async def show_commands(api: ApiClient, fleet: Fleet, commands: CommandLog, out: TextIO) -> None:
    """Remote-start a session on an idle connector, then lower its power (or change a setting)."""
    await fleet.wait_ready(timeout_s=30)
    await asyncio.sleep(2)
    # 2.0.1 stations first: the same commands, sent as RequestStartTransaction and a TxProfile named
    # by the station's own transaction id.
    commanded = sorted(
        (s for s in fleet.stations if s.adapter.subprotocol in COMMAND_PROTOCOLS),
        key=lambda s: COMMAND_PROTOCOLS.index(s.adapter.subprotocol),
        reverse=True,
    )
    station_ids = [s.station_id for s in commanded]
    # A simulated driver may take a connector between the look and the command: the station then
    # rejects the remote start, and the next idle connector is tried.
    status, answer, station_id = 0, {}, ""
    for attempt, (station_id, evse_id) in enumerate((await _idle_connectors(api, station_ids))[:MAX_REMOTE_START_TRIES]):
        if attempt == 0:
            print(f"Sending commands through the API to {station_id}:", file=out, flush=True)
        status, answer = await api.call(
            "POST", f"/api/v1/stations/{station_id}/remote-start", {"id_token": REMOTE_TOKEN, "evse_id": evse_id}
        )
        commands.add(f"remote-start ({station_id} connector {evse_id}, id token {REMOTE_TOKEN})", station_id, _outcome(status, answer), out)
        if status == 200 and answer.get("status") == "Accepted":
            break
    else:
        if not station_id:
            print("  (no idle connector for a remote start right now)", file=out, flush=True)
        return
    transaction = await _wait_for_transaction(api, station_id, REMOTE_TOKEN, timeout_s=15)
    if transaction is None:
        print("  (the remotely started transaction did not appear)", file=out, flush=True)
        return
    print(f"  transaction {transaction['id']} is running on {station_id} connector {evse_id}", file=out, flush=True)
    await asyncio.sleep(6)  # a meter value or so at full power first
    status, openapi = await api.call("GET", "/openapi.json")
    paths = openapi.get("paths", {}) if status == 200 and isinstance(openapi, dict) else {}
    if CHARGING_PROFILES_PATH in paths:
        profile = {
            "evse_id": evse_id,
            "charging_profile": {
                "charging_profile_id": 9001,
                "transaction_id": transaction["id"],
                "stack_level": 0,
                "charging_profile_purpose": "TxProfile",
                "charging_profile_kind": "Relative",
                "charging_schedule": {
                    "charging_rate_unit": "W",
                    "charging_schedule_period": [{"start_period": 0, "limit": PROFILE_LIMIT_W}],
                },
            },
        }
        before_w = await _latest_power_w(api, transaction["id"])
        status, answer = await api.call("POST", CHARGING_PROFILES_PATH.format(station_id=station_id), profile)
        commands.add(f"charging-profile (TxProfile, {PROFILE_LIMIT_W} W)", station_id, _outcome(status, answer), out)
        if status == 200:
            if answer.get("status") == "Accepted":
                await asyncio.sleep(DEMO_STATION.meter_values_interval_s + 1)
                after_w = await _latest_power_w(api, transaction["id"])
                if before_w is not None and after_w is not None:
                    print(
                        f"  transaction {transaction['id']}: Power.Active.Import {before_w:.0f} W before, {after_w:.0f} W now",
                        file=out,
                        flush=True,
                    )
            return
    status, answer = await api.call(
        "PATCH", f"/api/v1/stations/{station_id}/configuration", {"key": "MeterValueSampleInterval", "value": "2"}
    )
    commands.add("change-configuration MeterValueSampleInterval=2 (meter values every 2 s)", station_id, _outcome(status, answer), out)


async def _live(fleet: Fleet, interval_s: float, out: TextIO) -> None:
    while True:
        await asyncio.sleep(interval_s)
        print(summary_line(fleet.snapshot(), fleet.stats), file=out, flush=True)


async def csms_summary(application: Application) -> dict[str, Any]:
    """What the CSMS stored: transactions (completed and still open), energy, command records."""
    services = application.services
    completed = active = 0
    energy_wh = 0
    offset = 0
    while True:
        page = await services.transactions.list(limit=500, offset=offset)
        for transaction in page.items:
            if transaction.stopped_at is None:
                active += 1
                continue
            completed += 1
            stored = getattr(transaction, "energy_wh", None)
            if stored is None and transaction.meter_stop_wh is not None:
                stored = transaction.meter_stop_wh - transaction.meter_start_wh
            energy_wh += stored or 0
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break
    commands = 0
    offset = 0
    while True:
        stations = await services.stations.list(limit=500, offset=offset)
        for view in stations.items:
            commands += (await services.commands.list(view.station.id, limit=1)).total
        offset += len(stations.items)
        if not stations.items or offset >= stations.total:
            break
    return {"sessions_completed": completed, "sessions_active": active, "energy_wh": energy_wh, "command_records": commands}


def _protocol_ranges(plan: list[str]) -> str:
    """``DEMO-0001..0003 speak ocpp1.6, DEMO-0004..0005 ocpp2.0.1`` from each station's protocol, in order."""
    ranges: list[tuple[str, int, int]] = []
    for index, protocol in enumerate(plan, start=1):
        if ranges and ranges[-1][0] == protocol:
            ranges[-1] = (protocol, ranges[-1][1], index)
        else:
            ranges.append((protocol, index, index))
    parts = [
        f"{STATION_PREFIX}{first:04d}" + (f"..{last:04d}" if last != first else "") + f" {protocol}"
        for protocol, first, last in ranges
    ]
    return ", ".join(parts)


def _banner(
    options: DemoOptions, application: Application, token: str, token_generated: bool, database: Path, plan: list[str]
) -> str:
    api = f"http://{HOST}:{application.http_port}"
    auth = f"-H 'Authorization: Bearer {token}'"
    first = f"{STATION_PREFIX}0001"
    last = f"{STATION_PREFIX}{options.stations:04d}"
    how_long = f"for {options.duration_s:g} s" if options.duration_s else "until Ctrl-C"
    token_note = "generated; set KILOWATT_ADMIN_TOKEN to choose it" if token_generated else "from KILOWATT_ADMIN_TOKEN"
    return "\n".join(
        [
            "Kilowatt demo: the CSMS and simulated charge points in one process",
            f"  API docs     {api}/docs",
            f"  OCPP         ws://{HOST}:{application.ocpp_port}/ocpp/<station id>  (subprotocols ocpp2.1, ocpp2.0.1, ocpp1.6)",
            f"  admin token  {token}  ({token_note})",
            f"  database     {database}  (temporary, removed at exit)",
            f"  stations     {first} .. {last}, 2 connectors each; id tokens {DRIVER_TOKENS[0]}..{DRIVER_TOKENS[-1]}, {REMOTE_TOKEN}",
            f"  protocols    {_protocol_ranges(plan)}",
            f"  running      {how_long}",
            "",
            "Try, in another terminal:",
            f"  curl {auth} {api}/api/v1/stations",
            f"  curl {auth} '{api}/api/v1/transactions?active=true'",
            f"  curl -X POST {auth} -H 'Content-Type: application/json' \\",
            f"       -d '{{\"id_token\": \"{REMOTE_TOKEN}\", \"evse_id\": 1}}' {api}/api/v1/stations/{first}/remote-start",
            f"  curl {auth} {api}/api/v1/stations/{first}/commands",
            "",
        ]
    )


def _format_summary(elapsed_s: float, stored: dict[str, Any], report: dict[str, Any], commands: CommandLog) -> str:
    sent = ", ".join(f"{operation.split(' ')[0]}: {outcome}" for operation, _, outcome in commands.entries) or "none"
    return "\n".join(
        [
            "",
            f"Kilowatt demo summary ({elapsed_s:.0f} s, {report['stations']} stations:"
            f" {', '.join(f'{count} on {name}' for name, count in report['protocols'].items())})",
            f"  sessions recorded   {stored['sessions_completed']} completed in the CSMS"
            + (f", {stored['sessions_active']} still open" if stored["sessions_active"] else ""),
            f"  energy              {stored['energy_wh'] / 1000:.3f} kWh stored by the CSMS"
            f" ({report['energy_delivered_kwh']:.3f} kWh by the simulator's own account)",
            f"  commands sent       {len(commands.entries)} through the API ({sent});"
            f" {stored['command_records']} command records in the CSMS",
            f"  OCPP messages       {report['messages_sent']} sent by stations, {report['messages_received']} received,"
            f" {report['errors']} errors",
        ]
    )


async def run(options: DemoOptions, out: TextIO, settings: Settings | None = None, stop: asyncio.Event | None = None) -> int:
    """Run the demo until ``options.duration_s`` passes or ``stop`` is set (SIGINT/SIGTERM set it too)."""
    if options.stations < 1:
        print("kilowatt demo: --stations must be at least 1", file=out)
        return 2
    base = settings or Settings()
    token_generated = not base.admin_token
    token = base.admin_token or secrets.token_urlsafe(18)
    ocpp_port = options.ocpp_port if options.ocpp_port is not None else port_or_free(HOST, base.ocpp_port)
    http_port = options.http_port if options.http_port is not None else port_or_free(HOST, base.http_port)
    directory = Path(tempfile.mkdtemp(prefix="kilowatt-demo-"))
    database = directory / "kilowatt.db"
    demo_settings = base.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{database}",
            "host": HOST,
            "ocpp_port": ocpp_port,
            "http_port": http_port,
            "admin_token": token,
            "heartbeat_interval_s": 60,
        }
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    application = Application(demo_settings)
    try:
        await application.start()
        try:
            return await _run_started(options, application, token, token_generated, database, stop, out)
        finally:
            await application.stop()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        shutil.rmtree(directory, ignore_errors=True)


async def _run_started(
    options: DemoOptions,
    application: Application,
    token: str,
    token_generated: bool,
    database: Path,
    stop: asyncio.Event,
    out: TextIO,
) -> int:
    services = application.services
    config = FleetConfig(
        url=f"ws://{HOST}:{application.ocpp_port}/ocpp",
        stations=options.stations,
        id_prefix=STATION_PREFIX,
        protocols=options.protocols,
        seed=options.seed,
        connect_rate_per_s=50,
        summary_interval_s=None,
        station=DEMO_STATION,
    )
    for station_id in config.station_ids():
        await services.stations.create(station_id)
    for id_token in (*DRIVER_TOKENS, REMOTE_TOKEN):
        await services.authorization.create(id_token)
    print(_banner(options, application, token, token_generated, database, config.protocol_plan()), file=out, flush=True)

    fleet = Fleet(config)
    api = ApiClient(f"http://{HOST}:{application.http_port}", token)
    commands = CommandLog()
    loop = asyncio.get_running_loop()
    started_s = loop.time()
    await fleet.start()
    background = [
        asyncio.create_task(_kick_off(fleet)),
        asyncio.create_task(show_commands(api, fleet, commands, out)),
        asyncio.create_task(_live(fleet, options.summary_interval_s, out)),
    ]
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), options.duration_s)
    finally:
        print("Stopping: ending running sessions, closing connections ...", file=out, flush=True)
        for task in background:
            task.cancel()
        for task in background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await fleet.stop(graceful=True, timeout_s=10)
    stored = await csms_summary(application)
    print(_format_summary(loop.time() - started_s, stored, fleet.report(), commands), file=out, flush=True)
    return 0


async def _kick_off(fleet: Fleet) -> None:
    """Every other station gets a driver as soon as it is up, so there is something to see at once."""
    await fleet.wait_ready(timeout_s=30)
    for index, station in enumerate(fleet.stations):
        if index % 2 == 0:
            station.plug_in(1)
