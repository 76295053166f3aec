"""The systems under test, each started as its own process on a free port: Kilowatt and the peers.

- ``kilowatt-sqlite`` / ``kilowatt-postgres``: ``kilowatt serve`` with ``KILOWATT_*`` in its
  environment, on its own SQLite file or a freshly created PostgreSQL database, log level WARNING.
  The benchmark's stations and id tokens are registered in the database before it starts (the
  ``reject`` policy for unknown stations stays on, as in production).
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
PEER_TARGETS = ("ocpp-py", "ocpp-rpc")
ALL_TARGETS = KILOWATT_TARGETS + PEER_TARGETS
DESCRIPTIONS = {
    "kilowatt-sqlite": "Kilowatt on SQLite (WAL), every message validated and committed before the answer",
    "kilowatt-postgres": "Kilowatt on PostgreSQL (asyncpg), every message validated and committed before the answer",
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
    """One started system under test."""

    target: str
    process: subprocess.Popen[bytes]
    url: str  # OCPP base URL; station ids are appended
    log_path: Path
    postgres_database: str | None = None
    cleanup: list[Path] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout_s: float = 60.0) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        for path in self.cleanup:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return self.process.returncode


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
    from kilowatt.storage.models import IdToken, Station

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for start in range(0, len(station_ids), 5000):
                await connection.execute(insert(Station), [{"id": sid} for sid in station_ids[start : start + 5000]])
            for start in range(0, len(id_tokens), 5000):
                await connection.execute(insert(IdToken), [{"id_token": t} for t in id_tokens[start : start + 5000]])
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


def start(
    target: str,
    workdir: Path,
    label: str,
    *,
    station_ids: list[str],
    id_tokens: list[str],
    postgres_url: str,
) -> Server:
    """Start ``target`` with a fresh database; returns once it accepts connections."""
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
        env = _clean_env() | {
            "KILOWATT_DATABASE_URL": database_url,
            "KILOWATT_HOST": "127.0.0.1",
            "KILOWATT_OCPP_PORT": str(port),
            "KILOWATT_HTTP_PORT": str(free_port()),
            "KILOWATT_LOG_LEVEL": "WARNING",
            # The post-boot GetConfiguration waits a random 0-10 s by default; the closed-loop
            # connect phase waits for it after every batch, which made connecting 1,000 stations
            # take 95 s. 1 s keeps the fetch (it is measured) without the idle wait.
            "KILOWATT_CONFIGURATION_FETCH_DELAY_S": "1",
        }
        subprocess.run([sys.executable, "-m", "kilowatt", "migrate"], env=env, check=True, stdout=log, stderr=log)
        asyncio.run(_seed(database_url, station_ids, id_tokens))
        process = subprocess.Popen([sys.executable, "-m", "kilowatt", "serve"], env=env, stdout=log, stderr=log, cwd=workdir)
        server = Server(target, process, f"ws://127.0.0.1:{port}/ocpp", log_path, database, cleanup)
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
    except Exception:
        server.stop(5)
        raise
    return server
