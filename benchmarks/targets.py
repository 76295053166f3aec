"""The systems under test, each started as its own process on a free port: Kilowatt and the peers.

- ``kilowatt-sqlite`` / ``kilowatt-postgres``: ``kilowatt serve`` with ``KILOWATT_*`` in its
  environment, on its own SQLite file or a freshly created PostgreSQL database, log level WARNING.
  The benchmark's stations and id tokens are registered in the database before it starts (the
  ``reject`` policy for unknown stations stays on, as in production).
- ``kilowatt-cluster``: the scale-out deployment on one machine (issue 14): two ``kilowatt serve
  --role gateway`` processes, one ``--role api`` and one ``--role worker``, all on a fresh PostgreSQL
  database and a Redis database (``--redis-url``; the harness deletes its ``kilowatt:*`` keys before
  each start). The load generator splits the fleet across the two gateways by station index.
- ``ocpp-py``: :mod:`benchmarks.peers.ocpp_central_system`, the documented ``ocpp`` package pattern.
- ``ocpp-rpc``: ``benchmarks/peers/ocpp-rpc-server`` (node, ``ocpp-rpc`` in strict mode);
  ``npm ci`` runs on first use.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
NODE_PEER = PEERS / "ocpp-rpc-server"

KILOWATT_TARGETS = ("kilowatt-sqlite", "kilowatt-postgres")
CLUSTER_TARGETS = ("kilowatt-cluster",)
PEER_TARGETS = ("ocpp-py", "ocpp-rpc")
ALL_TARGETS = KILOWATT_TARGETS + CLUSTER_TARGETS + PEER_TARGETS
# The harness's own bearer token for API commands (the command latency scenario); a benchmark
# database is thrown away after the run, so a fixed value is no secret worth keeping.
ADMIN_TOKEN = "kilowatt-bench-admin-token"
CLUSTER_ROLES = (("gateway-1", "gateway"), ("gateway-2", "gateway"), ("api", "api"), ("worker", "worker"))
DESCRIPTIONS = {
    "kilowatt-sqlite": "Kilowatt on SQLite (WAL), every message validated and committed before the answer",
    "kilowatt-postgres": "Kilowatt on PostgreSQL (asyncpg), every message validated and committed before the answer",
    "kilowatt-cluster": "Kilowatt scale-out on PostgreSQL + Redis: two gateway processes, one API process, one worker;"
    " the fleet split across the gateways",
    "ocpp-py": "peer (a): minimal central system on the `ocpp` Python package (ChargePoint + @on), no persistence",
    "ocpp-rpc": "peer (b): minimal server on npm `ocpp-rpc` in strict mode (node), no persistence",
}


class TargetUnavailable(RuntimeError):
    """This target cannot run here (no node, no PostgreSQL); the report says why."""


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen on port {port} within {timeout_s} s")


@dataclass
class Server:
    """One started system under test: one process, or several (``members``) for the cluster."""

    target: str
    process: subprocess.Popen[bytes]
    url: str  # OCPP base URL; station ids are appended
    log_path: Path
    postgres_database: str | None = None
    cleanup: list[Path] = field(default_factory=list)
    api_url: str | None = None  # http://host:port of the process serving the HTTP API (Kilowatt only)
    # name -> process; a one-process target has one member, "server". The cluster has gateway-1,
    # gateway-2, api and worker: the harness samples each and reports each and their sum.
    members: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)  # OCPP base URLs the fleet is split across
    member_logs: dict[str, Path] = field(default_factory=dict)
    member_exit_codes: dict[str, int | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.members:
            self.members = {"server": self.process}
        if not self.urls:
            self.urls = [self.url]
        if not self.member_logs:
            self.member_logs = {name: self.log_path for name in self.members}

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.members.items()}

    def stop(self, timeout_s: float = 60.0) -> int | None:
        """SIGTERM every member (gateways first: their stations go before the API and worker); 0 if all exit 0."""
        for process in self.members.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in self.members.items():
            try:
                process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
            self.member_exit_codes[name] = process.returncode
        for path in self.cleanup:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        codes = list(self.member_exit_codes.values())
        return next((code for code in codes if code != 0), 0) if codes else self.process.returncode


async def _reset_postgres(url: str) -> None:
    from kilowatt.storage.database import create_engine

    target = make_url(url)
    admin = create_engine(target.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            await connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        await admin.dispose()


async def drop_postgres(url: str) -> None:
    from kilowatt.storage.database import create_engine

    target = make_url(url)
    admin = create_engine(target.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def _seed(url: str, station_ids: list[str], id_tokens: list[str]) -> None:
    """Register the benchmark's stations and id tokens, in bulk, as an operator would have."""
    from kilowatt.storage.database import create_engine
    from kilowatt.storage.models import IdToken, Station, id_token_key

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for start in range(0, len(station_ids), 5000):
                await connection.execute(insert(Station), [{"id": sid} for sid in station_ids[start : start + 5000]])
            for start in range(0, len(id_tokens), 5000):
                await connection.execute(insert(IdToken), [{"id_token": t, "key": id_token_key(t)} for t in id_tokens[start : start + 5000]])
    finally:
        await engine.dispose()


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("KILOWATT_")}


def postgres_reachable(url: str) -> str | None:
    """``None`` when PostgreSQL answers, else the reason."""

    async def probe() -> None:
        from kilowatt.storage.database import create_engine

        admin = create_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False))
        try:
            async with admin.connect() as connection:
                await connection.execute(text("SELECT 1"))
        finally:
            await admin.dispose()

    try:
        asyncio.run(asyncio.wait_for(probe(), 10))
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"PostgreSQL at {url} unreachable: {exc}"
    return None


def redis_reachable(url: str | None) -> str | None:
    """``None`` when Redis answers at ``url``, else the reason (no URL given is a reason too)."""
    if not url:
        return "no Redis URL (--redis-url or KILOWATT_BENCH_REDIS_URL): the cluster needs the Redis bus"
    try:
        asyncio.run(asyncio.wait_for(_reset_redis(url, delete=False), 10))
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"Redis at {url} unreachable: {exc}"
    return None


async def _reset_redis(url: str, *, delete: bool = True) -> None:
    """Delete the bus's keys (``kilowatt:*``) so a start sees no presence left by the previous one.

    Only Kilowatt's prefix, not FLUSHDB: the database number may be shared with something else.
    """
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        await client.ping()
        if delete:
            keys = [key async for key in client.scan_iter(match="kilowatt:*", count=1000)]
            for start in range(0, len(keys), 1000):
                await client.delete(*keys[start : start + 1000])
    finally:
        await client.aclose()


def _wait_for_node_row(role: str, process: subprocess.Popen[bytes], postgres_url: str, timeout_s: float = 60.0) -> None:
    """A worker listens on nothing: it is up once its row is in ``nodes`` (inserted at start)."""
    database = make_url(postgres_url).database
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{role} exited with code {process.returncode} before it was up")
        out = subprocess.run(
            ["psql", f"postgresql://postgres@127.0.0.1:5432/{database}", "-Atc", f"SELECT count(*) FROM nodes WHERE role = '{role}'"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        if out.isdigit() and int(out) > 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{role} did not register in nodes within {timeout_s} s")


def _kilowatt_env(database_url: str, ocpp_port: int, http_port: int) -> dict[str, str]:
    return _clean_env() | {
        "KILOWATT_DATABASE_URL": database_url,
        "KILOWATT_HOST": "127.0.0.1",
        "KILOWATT_OCPP_PORT": str(ocpp_port),
        "KILOWATT_HTTP_PORT": str(http_port),
        "KILOWATT_LOG_LEVEL": "WARNING",
        "KILOWATT_ADMIN_TOKEN": ADMIN_TOKEN,
        # The post-boot GetConfiguration waits a random 0-10 s by default; the closed-loop
        # connect phase waits for it after every batch, which made connecting 1,000 stations
        # take 95 s. 1 s keeps the fetch (it is measured) without the idle wait.
        "KILOWATT_CONFIGURATION_FETCH_DELAY_S": "1",
    }


def start_cluster(
    workdir: Path, label: str, *, station_ids: list[str], id_tokens: list[str], postgres_url: str, redis_url: str
) -> Server:
    """Two gateways, one API process, one worker on a fresh PostgreSQL database and Redis.

    Migrations run once, before; then the four start together (each role's own start-up check
    of the schema finds nothing to do), each with its own node id and log, and the harness waits
    until each is up.
    """
    asyncio.run(_reset_postgres(postgres_url))
    asyncio.run(_reset_redis(redis_url))
    base = _kilowatt_env(postgres_url, 0, 0) | {"KILOWATT_REDIS_URL": redis_url}
    migrate_log = workdir / f"{label}.migrate.log"
    with open(migrate_log, "wb") as log:
        subprocess.run([sys.executable, "-m", "kilowatt", "migrate"], env=base, check=True, stdout=log, stderr=log)
    asyncio.run(_seed(postgres_url, station_ids, id_tokens))
    members: dict[str, subprocess.Popen[bytes]] = {}
    logs: dict[str, Path] = {}
    ports: dict[str, tuple[int, int]] = {}
    urls: list[str] = []
    api_url = None
    try:
        for name, role in CLUSTER_ROLES:
            ocpp_port, http_port = ports[name] = free_port(), free_port()
            env = base | {
                "KILOWATT_OCPP_PORT": str(ocpp_port),
                "KILOWATT_HTTP_PORT": str(http_port),
                "KILOWATT_NODE_ID": f"bench-{name}",
            }
            logs[name] = workdir / f"{label}.{name}.server.log"
            log = open(logs[name], "wb")  # noqa: SIM115 - the child owns it
            members[name] = subprocess.Popen(
                [sys.executable, "-m", "kilowatt", "serve", "--role", role], env=env, stdout=log, stderr=log, cwd=workdir
            )
        for name, role in CLUSTER_ROLES:
            process = members[name]
            ocpp_port, http_port = ports[name]
            if role == "gateway":
                wait_for_port(ocpp_port, process)
                urls.append(f"ws://127.0.0.1:{ocpp_port}/ocpp")
            elif role == "api":
                wait_for_port(http_port, process)
                api_url = f"http://127.0.0.1:{http_port}"
            else:
                _wait_for_node_row(role, process, postgres_url)
    except Exception:
        for process in members.values():
            if process.poll() is None:
                process.kill()
                process.wait(10)
        raise
    first = next(iter(members.values()))
    return Server(
        "kilowatt-cluster", first, urls[0], logs["gateway-1"], make_url(postgres_url).database,
        api_url=api_url, members=members, urls=urls, member_logs=logs,
    )  # fmt: skip


def start(
    target: str,
    workdir: Path,
    label: str,
    *,
    station_ids: list[str],
    id_tokens: list[str],
    postgres_url: str,
    redis_url: str | None = None,
) -> Server:
    """Start ``target`` with a fresh database; returns once it accepts connections."""
    if target == "kilowatt-cluster":
        if not redis_url:
            raise TargetUnavailable("no Redis URL")
        return start_cluster(
            workdir, label, station_ids=station_ids, id_tokens=id_tokens, postgres_url=postgres_url, redis_url=redis_url
        )
    port = free_port()
    log_path = workdir / f"{label}.server.log"
    log = open(log_path, "wb")  # noqa: SIM115 - the child owns it
    if target in KILOWATT_TARGETS:
        cleanup: list[Path] = []
        if target == "kilowatt-sqlite":
            db_path = workdir / f"{label}.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
            database_url = f"sqlite+aiosqlite:///{db_path}"
            cleanup.append(db_path)
            database = None
        else:
            database_url = postgres_url
            database = make_url(postgres_url).database
            asyncio.run(_reset_postgres(postgres_url))
        http_port = free_port()
        env = _kilowatt_env(database_url, port, http_port)
        subprocess.run([sys.executable, "-m", "kilowatt", "migrate"], env=env, check=True, stdout=log, stderr=log)
        asyncio.run(_seed(database_url, station_ids, id_tokens))
        process = subprocess.Popen([sys.executable, "-m", "kilowatt", "serve"], env=env, stdout=log, stderr=log, cwd=workdir)
        server = Server(target, process, f"ws://127.0.0.1:{port}/ocpp", log_path, database, cleanup, f"http://127.0.0.1:{http_port}")
    elif target == "ocpp-py":
        process = subprocess.Popen(
            [sys.executable, str(PEERS / "ocpp_central_system.py"), "--port", str(port)],
            env=_clean_env(),
            stdout=log,
            stderr=log,
        )
        server = Server(target, process, f"ws://127.0.0.1:{port}/ocpp", log_path)
    elif target == "ocpp-rpc":
        node = shutil.which("node")
        npm = shutil.which("npm")
        if node is None or npm is None:
            raise TargetUnavailable("node/npm not installed")
        if not (NODE_PEER / "node_modules" / "ocpp-rpc").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_PEER, check=True, stdout=log, stderr=log)
        process = subprocess.Popen([node, "server.mjs", str(port)], cwd=NODE_PEER, stdout=log, stderr=log)
        server = Server(target, process, f"ws://127.0.0.1:{port}/ocpp", log_path)
    else:
        raise ValueError(f"unknown target {target!r}")
    try:
        wait_for_port(port, server.process)
        if server.api_url is not None:  # the HTTP API starts beside the gateway: commands need it
            wait_for_port(http_port, server.process)
    except Exception:
        server.stop(5)
        raise
    return server
