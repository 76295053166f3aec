"""What a process has used so far, read from ``/proc`` (Linux): CPU time, memory, open files.

CPU time is user + system of every thread of the process (``/proc/<pid>/stat`` fields 14 and 15,
in clock ticks — 10 ms on most kernels), so SQLite's worker thread counts as the CSMS's own.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

_TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcSample:
    cpu_s: float  # user + system, all threads
    user_s: float
    sys_s: float
    rss_kib: int  # resident set now
    hwm_kib: int  # peak resident set so far (VmHWM)
    threads: int
    fds: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sample(pid: int) -> ProcSample:
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read().decode()
    # the command name (field 2) may contain spaces: split after its closing parenthesis
    fields = stat[stat.rindex(")") + 2 :].split()
    user_s = int(fields[11]) * _TICK_S
    sys_s = int(fields[12]) * _TICK_S
    threads = int(fields[17])
    rss_kib = hwm_kib = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kib = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm_kib = int(line.split()[1])
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        fds = -1
    return ProcSample(user_s + sys_s, user_s, sys_s, rss_kib, hwm_kib, threads, fds)


def summed(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Several processes as one (the cluster's): every figure added up."""
    keys = ("cpu_s", "user_s", "sys_s", "rss_kib", "hwm_kib", "threads", "fds")
    return {key: sum(sample[key] for sample in samples) for key in keys}


def redis_server_pids() -> list[int]:
    """PIDs of the local ``redis-server`` processes (the cluster's bus), whose CPU the harness reports apart.

    The server may serve others too (other databases on it): its CPU in a window is an upper bound
    of what the cluster cost it.
    """
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                if f.read().strip() == "redis-server":
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


def cpu_s(pids: list[int]) -> float:
    """Summed CPU time of ``pids`` that still exist."""
    total = 0.0
    for pid in pids:
        try:
            total += sample(pid).cpu_s
        except (OSError, ValueError):
            pass
    return total


def postgres_backends(database: str, dsn: str = "postgresql://postgres@127.0.0.1:5432/postgres") -> list[int]:
    """PIDs of the PostgreSQL backends connected to ``database`` (local server: they are our processes to read)."""
    try:
        out = subprocess.run(
            ["psql", dsn, "-Atc", f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [int(line) for line in out.split() if line.strip().isdigit()]


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {"cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        with open("/proc/meminfo") as f:
            info["memory_gib"] = round(int(f.readline().split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    info["kernel"] = os.uname().release
    try:
        info["load_average_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info
