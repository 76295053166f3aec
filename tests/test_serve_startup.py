"""``kilowatt serve`` as a real process: what an operator sees when it cannot start, or starts read-only."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

STARTED = "kilowatt started"


def _environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    """This test's KILOWATT_* settings only (none inherited from the shell that runs pytest)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("KILOWATT_")}
    env.update(
        KILOWATT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'kilowatt.db'}",
        KILOWATT_HOST="127.0.0.1",
        KILOWATT_LOG_LEVEL="INFO",
        **settings,
    )
    return env


@contextlib.contextmanager
def _occupied_port() -> Iterator[int]:
    """A port on which this test holds a listening socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _is_listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _log_lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


@pytest.mark.parametrize("taken", ["KILOWATT_OCPP_PORT", "KILOWATT_HTTP_PORT"])
def test_a_taken_port_is_one_clear_line_and_nothing_starts(tmp_path: Path, taken: str) -> None:
    other = "KILOWATT_HTTP_PORT" if taken == "KILOWATT_OCPP_PORT" else "KILOWATT_OCPP_PORT"
    other_port = _free_port()
    with _occupied_port() as port:
        env = _environment(tmp_path, **{taken: str(port), other: str(other_port)})
        done = subprocess.run(
            [sys.executable, "-m", "kilowatt", "serve"], env=env, capture_output=True, text=True, timeout=60
        )
        assert not _is_listening(other_port)
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    message = done.stderr.strip()
    assert "\n" not in message, done.stderr
    assert str(port) in message and taken in message and "already in use" in message
    events = [line["event"] for line in _log_lines(done.stdout)]
    assert "gateway listening" not in events and STARTED not in events  # nothing half-started
    assert [line for line in _log_lines(done.stdout) if line["level"] == "error"][0]["error"] == message.split(": ", 1)[1]


@pytest.mark.parametrize("admin_token", [None, "a-secret-token"])
def test_start_up_says_when_the_api_is_read_only(tmp_path: Path, admin_token: str | None) -> None:
    settings = {"KILOWATT_OCPP_PORT": "0", "KILOWATT_HTTP_PORT": "0"}
    if admin_token is not None:
        settings["KILOWATT_ADMIN_TOKEN"] = admin_token
    process = subprocess.Popen(
        [sys.executable, "-m", "kilowatt", "serve"],
        env=_environment(tmp_path, **settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _read_until_started(process)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0
    warnings = [line for line in lines if line["level"] == "warning" and "KILOWATT_ADMIN_TOKEN" in line["event"]]
    if admin_token is None:
        assert len(warnings) == 1 and "read-only" in warnings[0]["event"], lines
    else:
        assert warnings == []


def _read_until_started(process: subprocess.Popen[str], timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """The log lines up to and including the one saying the server started."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout_s
    lines: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        text = process.stdout.readline()
        if not text:
            raise AssertionError(f"serve exited before starting: {lines}")
        if text.startswith("{"):
            lines.append(json.loads(text))
            if lines[-1]["event"] == STARTED:
                return lines
    raise AssertionError(f"serve did not start within {timeout_s} s: {lines}")
