"""``kilowatt serve`` (and ``demo``) run on uvloop when it can be imported, on asyncio otherwise."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kilowatt import cli
from kilowatt.config import EventLoop, Settings

uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed (Windows?)")


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_auto_picks_uvloop_when_installed() -> None:
    assert Settings().event_loop is EventLoop.auto
    assert cli.event_loop_factory("auto") is uvloop.new_event_loop
    assert cli.event_loop_factory("uvloop") is uvloop.new_event_loop
    assert cli.event_loop_factory("asyncio") is None
    assert issubclass(cli.run_server(_loop_type(), "auto"), uvloop.Loop)
    assert not issubclass(cli.run_server(_loop_type(), "asyncio"), uvloop.Loop)


def test_falls_back_to_asyncio_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # ``import uvloop`` now raises ImportError
    assert cli.event_loop_factory("auto") is None
    assert not issubclass(cli.run_server(_loop_type(), "auto"), uvloop.Loop)
    with pytest.raises(RuntimeError, match="uvloop"):
        cli.event_loop_factory("uvloop")
    coroutine = _loop_type()
    with pytest.raises(RuntimeError):
        cli.run_server(coroutine, "uvloop")
    assert coroutine.cr_frame is None  # closed, not left to warn "never awaited"


def test_uvloop_is_a_dependency_except_on_windows() -> None:
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert "\"uvloop>=0.19; sys_platform != 'win32'\"" in pyproject


def _serve_loop(tmp_path: Path, **env: str) -> str:
    """Start ``kilowatt serve`` and return the event loop class it logs, then stop it."""
    environment = os.environ | {
        "KILOWATT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'kilowatt.db'}",
        "KILOWATT_HOST": "127.0.0.1",
        "KILOWATT_OCPP_PORT": "0",
        "KILOWATT_HTTP_PORT": "0",
        "KILOWATT_LOG_LEVEL": "INFO",
    } | env
    process = subprocess.Popen(
        [sys.executable, "-m", "kilowatt", "serve"], env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        for line in process.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("event") == "event loop":
                return record["loop"]
            if time.monotonic() > deadline:
                break
        raise AssertionError(f"kilowatt serve did not log its event loop (exit code {process.poll()})")
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_runs_on_uvloop(tmp_path: Path) -> None:
    assert _serve_loop(tmp_path).startswith("uvloop.")


def test_serve_runs_on_asyncio_when_told(tmp_path: Path) -> None:
    assert _serve_loop(tmp_path, KILOWATT_EVENT_LOOP="asyncio").startswith("asyncio.")
