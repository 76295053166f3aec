"""Where the CSMS spends its CPU: py-spy samples of the running server, summed by function and by layer.

``py-spy record --format raw`` writes collapsed stacks (``frame;frame;...;leaf count``), only
for threads it thinks are on the CPU (idle threads are left out without ``--idle``). Its idea of
idle misses a thread blocked on a queue (aiosqlite's worker waiting for work) or sleeping in C
(SQLite's busy handler waiting for the write lock), so such samples are dropped here and counted
by kind (``waiting_samples_dropped``); what remains approximates each function's share of the CPU
the process used in the window. Record with ``--native`` to see C frames (sqlite3, orjson, ...).
"""

from __future__ import annotations

import linecache
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")

# (layer, substrings of the file path); first match wins, so the specific come first
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("JSON schema validation (fastjsonschema)", ("fastjsonschema", "<string>", "kilowatt/rpc/schemas.py")),
    ("SQLAlchemy ORM/Core", ("sqlalchemy/",)),
    ("SQLite driver (aiosqlite + sqlite3)", ("aiosqlite/", "sqlite3/", "libsqlite3", "_sqlite/", "cursor.c")),
    ("PostgreSQL driver (asyncpg)", ("asyncpg/",)),
    ("WebSocket protocol (websockets)", ("websockets/",)),
    ("logging (structlog/logging)", ("structlog/", "logging/")),
    ("JSON encode/decode", ("json/", "orjson")),
    ("asyncio event loop", ("asyncio/", "selectors.py", "uvloop")),
    ("Kilowatt rpc/", ("kilowatt/rpc/",)),
    ("Kilowatt gateway/", ("kilowatt/gateway/",)),
    ("Kilowatt ocpp/", ("kilowatt/ocpp/",)),
    ("Kilowatt services/", ("kilowatt/services/",)),
    ("Kilowatt bus/", ("kilowatt/bus/",)),
    ("Kilowatt storage/", ("kilowatt/storage/",)),
    ("Kilowatt other", ("kilowatt/",)),
    ("pydantic", ("pydantic",)),
    ("stdlib other", ("/lib/python3",)),
)


def py_spy() -> str | None:
    candidate = Path(sys.executable).parent / "py-spy"
    if candidate.exists():
        return str(candidate)
    return shutil.which("py-spy")


def record(pid: int, duration_s: float, output: Path, rate_hz: int = 100, native: bool = False) -> subprocess.Popen[bytes] | None:
    """Start sampling ``pid`` for ``duration_s`` into ``output`` (collapsed stacks); ``None`` without py-spy."""
    exe = py_spy()
    if exe is None:
        return None
    return subprocess.Popen(
        [exe, "record", "--pid", str(pid), "--duration", str(max(1, round(duration_s))), "--rate", str(rate_hz),
         "--format", "raw", "--output", str(output), *(["--native"] if native else [])],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip


# Stacks that are waiting, not working, although py-spy counts their thread as active (it misses
# a thread blocked on a lock or sleeping inside C code). Python lines, then native frames (--native).
_WAITING_LINES = (
    ("aiosqlite/core.py", "tx.get(", "aiosqlite worker idle"),
    ("selectors.py", ".poll(", "event loop poll"),
    ("threading.py", ".wait(", "thread wait"),
)
_WAITING_NATIVE = (
    ("sqlite3InvokeBusyHandler", "SQLite busy handler (waiting for the write lock)"),
    ("take_gil", "waiting for the GIL"),
    ("PyThread_acquire_lock_timed", "lock wait"),
    ("epoll_wait", "event loop poll"),
    ("epoll_pwait", "event loop poll"),  # uvloop (libuv)
    ("clock_nanosleep", "sleep"),
    ("pthread_cond_wait", "condition wait"),
    ("pthread_cond_timedwait", "condition wait"),
    ("sem_wait", "semaphore wait"),
    ("sem_timedwait", "semaphore wait"),
)


def _split(frame: str) -> tuple[str, str]:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip(), ""
    return m.group("func"), m.group("file")


def waiting_kind(frames: list[str]) -> str | None:
    """What the stack waits for, or ``None`` when it is on the CPU."""
    python = [i for i, f in enumerate(frames) if ".py:" in f]
    native_tail = frames[python[-1] + 1 :] if python else frames
    for frame in native_tail:
        func, _ = _split(frame)
        for name, kind in _WAITING_NATIVE:
            if func == name:
                return kind
    if python:
        m = _FRAME.match(frames[python[-1]].strip())
        if m and m.group("line"):
            file = m.group("file")
            for suffix, code, kind in _WAITING_LINES:
                if file.endswith(suffix) and code in linecache.getline(file, int(m.group("line"))):
                    return kind
    return None


def _short(file: str) -> str:
    for marker in ("site-packages/", "src/", "lib/python3.11/", "lib/python3.12/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def layer_of(file: str) -> str:
    for name, needles in LAYERS:
        if any(n in file for n in needles):
            return name
    return "other"


def layer_of_stack(files: list[str]) -> str:
    """The layer of the innermost frame that belongs to one (libc and the interpreter belong to none)."""
    for file in reversed(files):
        layer = layer_of(file)
        if layer != "other":
            return layer
    return "other"


def summarize(path: Path, top: int = 20) -> dict[str, Any]:
    """Self and inclusive shares per function and self share per layer, from a collapsed-stack file."""
    self_counts: Counter[str] = Counter()  # innermost Python frame: C time goes to its caller
    native_self: Counter[str] = Counter()  # innermost frame of any kind (with --native)
    inclusive: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith("process ") and not f.startswith("thread ")]
        if not frames:
            continue
        kind = waiting_kind(frames)
        if kind is not None:
            waiting[kind] += count
            continue
        total += count
        names = []
        for frame in frames:
            func, file = _split(frame)
            names.append((f"{func} ({_short(file)})", file))
        native_self[names[-1][0]] += count
        python_names = [n for n, f in names if f.endswith(".py") or f.startswith("<")]
        self_counts[python_names[-1] if python_names else names[-1][0]] += count
        layers[layer_of_stack([f for _, f in names])] += count
        for name in {n for n, _ in names}:
            inclusive[name] += count

    def share(counter: Counter[str], n: int) -> list[dict[str, Any]]:
        return [{"function": k, "share": round(v / total, 4)} for k, v in counter.most_common(n)] if total else []

    return {
        "samples": total,
        "waiting_samples_dropped": dict(waiting.most_common()),
        "self": share(self_counts, top),
        "native_self": share(native_self, top),
        "inclusive": share(inclusive, top * 2),
        "layers": [{"layer": k, "share": round(v / total, 4)} for k, v in layers.most_common()] if total else [],
    }
