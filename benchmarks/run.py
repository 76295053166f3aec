"""Run the benchmark: every scenario against Kilowatt (SQLite, PostgreSQL) and the peers; write the reports.

    .venv/bin/python -m benchmarks.run --stations 10000 --out benchmarks/results
    .venv/bin/python -m benchmarks.run --quick            # tiny fleet, seconds per scenario

Each system under test runs as its own process (:mod:`benchmarks.targets`), the load generator
(:mod:`benchmarks.loadgen`, the project's simulator) as another. The harness samples the server's
``/proc`` at the edges of every measured window, which the load generator announces. Writes
``<out>/report.json`` and ``<out>/report.md`` (plus logs and profiles) and, for full runs,
regenerates ``docs/performance.md``. See docs/performance.md for what each figure means.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson

from benchmarks import commands, procstat, profile, targets
from benchmarks.loadgen import burst_token, busy_token, raise_fd_limit
from benchmarks.report import render_markdown
from kilowatt.simulator.config import SUPPORTED_PROTOCOLS

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/kilowatt_bench"
DOCS = targets.ROOT / "docs" / "performance.md"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- one plan against one server -----------------------------------------------------------------


class PlanRun:
    """Drives one load generator against one server and collects a sample at each of its marks."""

    def __init__(
        self, server: targets.Server, plan: str, args: argparse.Namespace, workdir: Path, label: str, protocol: str = "ocpp1.6"
    ):
        self.server = server
        self.plan = plan
        self.protocol = protocol
        self.args = args
        self.workdir = workdir
        self.label = label
        self.marks: dict[str, dict[str, Any]] = {}
        self.done: dict[str, Any] = {}
        self.profile: dict[str, Any] | None = None
        self._db_pids_cpu: dict[int, float] = {}
        self.commands: dict[str, Any] | None = None
        self._redis_pids = procstat.redis_server_pids() if server.target in targets.CLUSTER_TARGETS else []

    def _db_cpu(self) -> dict[int, float]:
        if not self.server.postgres_database:
            return {}
        result = {}
        for pid in procstat.postgres_backends(self.server.postgres_database):
            try:
                result[pid] = procstat.sample(pid).cpu_s
            except (OSError, ValueError):
                pass
        return result

    def _members(self) -> dict[str, dict[str, Any]] | None:
        """A sample of every process of the server; ``None`` if one is gone (the window is then unusable)."""
        samples = {}
        for name, pid in self.server.pids.items():
            try:
                samples[name] = procstat.sample(pid).as_dict()
            except (OSError, ValueError):
                return None
        return samples

    def command(self) -> list[str]:
        a = self.args
        urls = [arg for url in self.server.urls for arg in ("--url", url)]
        cmd = [
            sys.executable, "-m", "benchmarks.loadgen", self.plan, *urls,
            "--stations", str(a.stations), "--connect-rate", str(a.connect_rate), "--window", str(a.window),
            "--meter-interval", str(a.meter_interval), "--target-rate", str(a.target_rate),
            "--tx-pairs", str(a.tx_pairs), "--busy-fraction", str(a.busy_fraction),
            "--storm-timeout", str(a.storm_timeout), "--protocol", self.protocol,
        ]  # fmt: skip
        if self.want_commands:
            cmd += ["--commands", str(a.commands)]
        if self.want_profile:
            cmd += ["--profile", "--profile-window", str(a.profile_window), "--profile-load", a.profile_load]
        return cmd

    @property
    def want_commands(self) -> bool:
        return self.plan == "steady" and self.args.commands > 0 and self.server.api_url is not None

    @property
    def want_profile(self) -> bool:
        return self.plan == "steady" and self.args.profile and self.server.target in targets.KILOWATT_TARGETS

    def run(self) -> None:
        lg_log = open(self.workdir / f"{self.label}.loadgen.log", "wb")  # noqa: SIM115
        loadgen = subprocess.Popen(
            self.command(), cwd=targets.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=lg_log
        )
        assert loadgen.stdin is not None and loadgen.stdout is not None
        spy: subprocess.Popen[bytes] | None = None
        spy_out = self.workdir / f"{self.label}.profile.txt"
        try:
            for raw in loadgen.stdout:
                message = orjson.loads(raw)
                if "done" in message:
                    self.done = message["done"]
                    continue
                name = message["mark"]
                db = self._db_cpu()
                members = self._members()
                self.marks[name] = {
                    "t": message["t"],
                    "stats": message["stats"],
                    "server": None if members is None else procstat.summed(list(members.values())),
                    "members": members,
                    "loadgen_cpu_s": procstat.sample(loadgen.pid).cpu_s,
                    "db_cpu": db,
                    "redis_cpu_s": procstat.cpu_s(self._redis_pids) if self._redis_pids else None,
                }
                if name == "commands.run" and self.server.api_url is not None:
                    station_ids = [f"{self.args.id_prefix}{n:0{self.args.id_width}d}" for n in range(1, self.args.stations + 1)]
                    self.commands = commands.run_commands(self.server.api_url, targets.ADMIN_TOKEN, station_ids, self.args.commands)
                    log(f"{self.label}: {self.commands['measured']} commands, p50 {self.commands['latency_ms']['p50']} ms,"
                        f" p99 {self.commands['latency_ms']['p99']} ms, failures {self.commands['failures']}")  # fmt: skip
                log(f"{self.label}: {name}" + (f" ({_brief(message['stats'])})" if message["stats"] else ""))
                if name == "profile.begin":
                    spy = profile.record(self.server.pid, self.args.profile_window, spy_out, native=self.args.profile_native)
                    if spy is None:
                        self.profile = {"error": "py-spy not installed (.venv/bin/pip install py-spy)"}
                if name == "profile.end" and spy is not None:
                    try:
                        _, err = spy.communicate(timeout=60)
                        if spy.returncode == 0 and spy_out.exists():
                            self.profile = profile.summarize(spy_out) | {"file": spy_out.name}
                        else:
                            self.profile = {"error": err.decode(errors="replace")[-500:]}
                    except subprocess.TimeoutExpired:
                        spy.kill()
                        self.profile = {"error": "py-spy did not finish"}
                loadgen.stdin.write(b"ok\n")
                loadgen.stdin.flush()
        except BaseException:
            loadgen.kill()  # interrupted or broken: do not wait for the fleet to finish its plan
            raise
        finally:
            if loadgen.poll() is None:
                try:
                    loadgen.wait(timeout=180)
                except subprocess.TimeoutExpired:
                    loadgen.kill()
                    loadgen.wait()
            lg_log.close()
        if loadgen.returncode != 0:
            raise RuntimeError(f"load generator exited with {loadgen.returncode}; see {self.label}.loadgen.log")

    def window(self, name: str) -> dict[str, Any] | None:
        """The figures of window ``name`` (its ``.begin`` and ``.end`` marks)."""
        begin, end = self.marks.get(f"{name}.begin"), self.marks.get(f"{name}.end")
        if begin is None or end is None or begin["server"] is None or end["server"] is None:
            return None
        stats = end["stats"]
        seconds = end["t"] - begin["t"]
        messages = stats["sent"] + stats["received"]
        cpu_s = end["server"]["cpu_s"] - begin["server"]["cpu_s"]
        db_cpu_s = sum(cpu - begin["db_cpu"].get(pid, 0.0) for pid, cpu in end["db_cpu"].items())
        lg_cpu_s = end["loadgen_cpu_s"] - begin["loadgen_cpu_s"]
        per_process = None
        if len(self.server.members) > 1 and begin.get("members") and end.get("members"):
            per_process = {}
            for member, sample in end["members"].items():
                member_cpu_s = sample["cpu_s"] - begin["members"][member]["cpu_s"]
                per_process[member] = {
                    "cpu_s": round(member_cpu_s, 3),
                    "cpu_util": _r(member_cpu_s / seconds if seconds > 0 else 0.0, 3),
                    "cpu_us_per_msg": _r(member_cpu_s * 1e6 / messages, 1) if messages else None,
                    "rss_kib": sample["rss_kib"],
                }
        redis_cpu_s = None
        if begin.get("redis_cpu_s") is not None and end.get("redis_cpu_s") is not None:
            redis_cpu_s = end["redis_cpu_s"] - begin["redis_cpu_s"]
        return {
            "window_s": round(seconds, 3),
            "messages": messages,
            "messages_from_stations": stats["sent"],
            "messages_to_stations": stats["received"],
            "by_action": stats["sent_by_action"] | {f"CSMS:{k}": v for k, v in stats["received_by_action"].items()},
            "msg_per_s": _r(messages / seconds if seconds > 0 else 0.0, 1),
            "cpu_s": round(cpu_s, 3),
            "cpu_util": _r(cpu_s / seconds if seconds > 0 else 0.0, 3),
            "cpu_us_per_msg": _r(cpu_s * 1e6 / messages, 1) if messages else None,
            "db_cpu_s": round(db_cpu_s, 3) if self.server.postgres_database else None,
            "db_cpu_us_per_msg": _r(db_cpu_s * 1e6 / messages, 1) if messages and self.server.postgres_database else None,
            "loadgen_cpu_util": _r(lg_cpu_s / seconds if seconds > 0 else 0.0, 3),
            "per_process": per_process,
            "redis_cpu_s": None if redis_cpu_s is None else round(redis_cpu_s, 3),
            "redis_cpu_us_per_msg": _r(redis_cpu_s * 1e6 / messages, 1) if messages and redis_cpu_s is not None else None,
            "latency_ms": stats["latency_ms"],
            "errors": stats["errors"],
            "errors_by_kind": stats["errors_by_kind"],
            "rejected_by_action": stats["rejected_by_action"],
            "rss_kib": end["server"]["rss_kib"],
            "connected": stats["connected"],
        }


def _brief(stats: dict[str, Any]) -> str:
    lat = stats["latency_ms"]
    return f"{stats['sent']}+{stats['received']} msgs, errors {stats['errors']}, p99 {lat['p99']} ms"


def _r(value: float, digits: int) -> float:
    return round(value, digits) if math.isfinite(value) else 0.0


# --- one target ---------------------------------------------------------------------------------


def run_target(target: str, args: argparse.Namespace, workdir: Path, protocol: str = "ocpp1.6") -> dict[str, Any]:
    """Every plan against a fresh ``target`` server, with a fleet speaking ``protocol``."""
    station_ids = [f"{args.id_prefix}{n:0{args.id_width}d}" for n in range(1, args.stations + 1)]
    id_tokens = [busy_token(i) for i in range(args.stations)] + [burst_token(i) for i in range(min(args.stations, args.tx_pairs))]
    result: dict[str, Any] = {"target": target, "description": targets.DESCRIPTIONS[target], "protocol": protocol}
    scenarios: dict[str, Any] = {}
    peak_rss_kib = 0
    server_exit: dict[str, int | None] = {}
    member_exit: dict[str, dict[str, int | None]] = {}
    for plan in args.plans:
        label = f"{target}.{plan}" if protocol == "ocpp1.6" else f"{target}.{protocol}.{plan}"
        log(f"{label}: starting server")
        server = targets.start(
            target, workdir, label, station_ids=station_ids, id_tokens=id_tokens, postgres_url=args.postgres_url,
            redis_url=args.redis_url,
        )  # fmt: skip
        runner = PlanRun(server, plan, args, workdir, label, protocol)
        try:
            runner.run()
        finally:
            hwm = 0
            for pid in server.pids.values():
                try:
                    hwm += procstat.sample(pid).hwm_kib  # the cluster: the sum of its processes' peaks
                except (OSError, ValueError):
                    pass
            server_exit[plan] = server.stop()
            member_exit[plan] = dict(server.member_exit_codes)
            if server.postgres_database:
                import asyncio

                asyncio.run(targets.drop_postgres(args.postgres_url))
        peak_rss_kib = max(peak_rss_kib, hwm)
        server_errors = sum(_log_errors(path) for path in set(server.member_logs.values()))
        if plan == "steady":
            start, rest_begin = runner.marks.get("start"), runner.marks.get("rest.begin")
            rest = runner.window("rest")
            if rest is not None and start and rest_begin and start["server"] and rest_begin["server"]:
                connected = rest["connected"] or args.stations
                rest["rss_before_kib"] = start["server"]["rss_kib"]
                rest["rss_after_connect_kib"] = rest_begin["server"]["rss_kib"]
                rest["rss_per_station_kib"] = _r(
                    (rest_begin["server"]["rss_kib"] - start["server"]["rss_kib"]) / max(1, connected), 2
                )
                rest["connect_s"] = runner.done.get("connect_s")
                rest["all_ready"] = runner.done.get("all_ready")
                rest["fds"] = rest_begin["server"]["fds"]
            scenarios["rest"] = rest
            busy = runner.window("busy")
            if busy is not None:
                busy["charging"] = runner.done.get("charging")
                busy["meter_interval_s"] = runner.done.get("busy_meter_interval_s")
            scenarios["busy"] = busy
            sustained = runner.window("sustained")
            if sustained is not None:
                sustained["meter_interval_s"] = runner.done.get("sustained_meter_interval_s")
            scenarios["sustained"] = sustained
            aligned = runner.window("aligned")
            if aligned is not None:
                aligned |= runner.done.get("aligned", {})
            scenarios["aligned"] = aligned
            tx = runner.window("tx")
            if tx is not None:
                tx |= runner.done.get("tx", {})
                tx["pairs_per_s"] = _r(tx["pairs"] / tx["elapsed_s"], 1) if tx.get("elapsed_s") else None
            scenarios["tx"] = tx
            if runner.commands is not None:
                window = runner.window("commands") or {}
                sent = runner.commands["sent"]
                cpu = {"cpu_s": window.get("cpu_s"), "db_cpu_s": window.get("db_cpu_s"), "redis_cpu_s": window.get("redis_cpu_s")}
                per_command = {
                    key.replace("_s", "_us_per_command"): _r(value * 1e6 / sent, 1)
                    for key, value in cpu.items()
                    if value is not None and sent
                }
                per_process = {
                    member: _r(figures["cpu_s"] * 1e6 / sent, 1) for member, figures in (window.get("per_process") or {}).items()
                } if sent else {}  # fmt: skip
                scenarios["commands"] = runner.commands | {
                    "window_s": window.get("window_s"),
                    "station_messages": window.get("messages"),
                    "errors": window.get("errors", 0),
                    **per_command,
                    "per_process_cpu_us_per_command": per_process or None,
                }
            if runner.profile is not None:
                result["profile"] = runner.profile
                result["profile_window"] = runner.window("profile")
            result["steady_final"] = runner.done.get("final")
        else:
            storm = runner.window("storm")
            if storm is not None:
                storm |= runner.done.get("storm", {})
                storm["refused"] = storm["errors"] + sum(storm["rejected_by_action"].values())
            scenarios["storm"] = storm
        result.setdefault("server_log_errors", {})[plan] = server_errors
        result.setdefault("stations_per_url", {})[plan] = runner.done.get("stations_per_url")
        result.setdefault("marks", {})[plan] = runner.marks
    result["scenarios"] = scenarios
    result["peak_rss_kib"] = peak_rss_kib
    result["server_exit_codes"] = server_exit
    if target in targets.CLUSTER_TARGETS:
        result["member_exit_codes"] = member_exit
        result["members"] = [name for name, _role in targets.CLUSTER_ROLES]
    result["errors"] = sum((s or {}).get("errors", 0) for s in scenarios.values())
    return result


def _log_errors(path: Path) -> int:
    """Lines at ERROR or worse in a server's log (Kilowatt logs JSON lines; peers print tracebacks)."""
    count = 0
    try:
        for line in path.read_text(errors="replace").splitlines():
            low = line.lower()
            if '"level":"error"' in low.replace(" ", "") or '"level":"critical"' in low.replace(" ", "") or low.startswith("traceback"):
                count += 1
    except OSError:
        pass
    return count


# --- the whole run ----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--stations", type=int, help="fleet size N (default 10000; --quick: 20)")
    p.add_argument("--quick", action="store_true", help="tiny fleet and short windows: a check that everything runs")
    p.add_argument("--out", type=Path, default=targets.ROOT / "benchmarks" / "results", help="directory for reports, logs, profiles")
    p.add_argument("--targets", default=",".join(targets.ALL_TARGETS), help=f"comma-separated subset of {','.join(targets.ALL_TARGETS)}")
    p.add_argument("--plans", default="steady,storm", help="steady (rest, busy, sustained, aligned, tx) and/or storm")
    p.add_argument("--window", type=float, help="seconds per measured window (default 30; --quick: 3)")
    p.add_argument("--connect-rate", type=float, default=1000.0, help="stations connecting per second before the steady scenarios")
    p.add_argument("--meter-interval", type=float, help="MeterValues interval in the busy fleet (s; default 10, --quick: 1)")
    p.add_argument("--busy-fraction", type=float, default=0.3, help="share of stations charging in the busy fleet")
    p.add_argument("--target-rate", type=float, help="MeterValues per second offered in the sustained window (default 2000)")
    p.add_argument("--tx-pairs", type=int, help="Start/Stop pairs in the transaction burst (default 1000)")
    p.add_argument("--storm-timeout", type=float, default=300.0)
    p.add_argument("--no-profile", dest="profile", action="store_false", help="skip the py-spy window")
    p.add_argument("--profile-window", type=float, help="seconds of py-spy sampling (default: --window)")
    p.add_argument("--profile-load", choices=("busy", "sustained"), default="sustained",
                   help="the load the py-spy window samples: the busy fleet's rate or the sustained one")
    p.add_argument("--profile-native", action=argparse.BooleanOptionalAction, default=True,
                   help="py-spy --native: C frames too (sqlite3, libc), so lock waits are told from work (default on)")  # fmt: skip
    p.add_argument("--postgres-url", default=os.environ.get("KILOWATT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                   help="a database the benchmark may drop and create (env KILOWATT_BENCH_POSTGRES_URL)")  # fmt: skip
    p.add_argument("--redis-url", default=os.environ.get("KILOWATT_BENCH_REDIS_URL"),
                   help="Redis for kilowatt-cluster (env KILOWATT_BENCH_REDIS_URL); its kilowatt:* keys are deleted at each start")
    p.add_argument("--commands", type=int, help="API commands timed after the tx burst, Kilowatt targets (default 300; --quick: 30; 0: none)")
    p.add_argument("--docs", action=argparse.BooleanOptionalAction, default=None,
                   help="regenerate docs/performance.md (default: yes for full runs, no with --quick)")  # fmt: skip
    p.add_argument("--note", action="append", default=[], help="a line for the report's notes (e.g. what else ran)")
    p.add_argument("--protocols", default="ocpp1.6",
                   help="fleets to run, comma-separated (ocpp1.6, ocpp2.0.1, ocpp2.1): the first fills the main tables, "
                        "each further one runs the same scenarios against Kilowatt and is compared with it")  # fmt: skip
    return p


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwind, so every started server and database is cleaned up


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    raw_argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(raw_argv)
    if args.stations is None:
        args.stations = 20 if args.quick else 10_000
    if args.window is None:
        args.window = 3.0 if args.quick else 30.0
    if args.profile_window is None:
        args.profile_window = args.window
    if args.meter_interval is None:
        args.meter_interval = 1.0 if args.quick else 10.0
    if args.target_rate is None:
        args.target_rate = 100.0 if args.quick else 2000.0
    if args.tx_pairs is None:
        args.tx_pairs = 40 if args.quick else 1000
    if args.commands is None:
        args.commands = 30 if args.quick else 300
    args.id_prefix = "BENCH-"
    args.id_width = max(4, len(str(args.stations)))
    args.plans = [p for p in args.plans.split(",") if p]
    args.protocols = [p for p in args.protocols.split(",") if p]
    bad = [p for p in args.protocols if p not in SUPPORTED_PROTOCOLS]
    if bad or not args.protocols:
        print(f"unknown protocols: {', '.join(bad) or '(none given)'}", file=sys.stderr)
        return 2
    wanted = [t for t in args.targets.split(",") if t]
    unknown = set(wanted) - set(targets.ALL_TARGETS)
    if unknown:
        print(f"unknown targets: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    hard = raise_fd_limit()
    if hard < args.stations + 1000:
        log(f"warning: the fd limit is {hard}; {args.stations} stations need more (ulimit -Hn)")
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now(dt.UTC)
    report: dict[str, Any] = {
        "command": "python -m benchmarks.run " + shlex.join(raw_argv),
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "git_commit": _git_commit(),
        "machine": procstat.machine() | {"python": platform.python_version(), "node": _node_version()},
        "fd_limit": hard,
        "settings": {
            "stations": args.stations, "window_s": args.window, "connect_rate_per_s": args.connect_rate,
            "busy_fraction": args.busy_fraction, "meter_interval_s": args.meter_interval,
            "target_rate_per_s": args.target_rate, "tx_pairs": args.tx_pairs, "connectors_per_station": 2,
            "quick": args.quick, "plans": args.plans, "profile_load": args.profile_load, "protocols": args.protocols,
            "commands": args.commands,
        },  # fmt: skip
        "notes": args.note,
        "targets": {},
        "skipped": {},
    }
    for target in wanted:
        if target in ("kilowatt-postgres", *targets.CLUSTER_TARGETS):
            reason = targets.postgres_reachable(args.postgres_url)
            if reason is None and target in targets.CLUSTER_TARGETS:
                reason = targets.redis_reachable(args.redis_url)
            if reason:
                report["skipped"][target] = reason
                log(f"{target}: skipped: {reason}")
                continue
        try:
            report["targets"][target] = run_target(target, args, args.out, args.protocols[0])
        except targets.TargetUnavailable as exc:
            report["skipped"][target] = str(exc)
            log(f"{target}: skipped: {exc}")
            continue
        for protocol in args.protocols[1:]:  # the same scenarios with another fleet: Kilowatt speaks them all
            if target not in targets.KILOWATT_TARGETS + targets.CLUSTER_TARGETS:
                continue  # the peers are 1.6 central systems
            report.setdefault("fleets", {}).setdefault(target, {})[protocol] = run_target(target, args, args.out, protocol)
    report["duration_s"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1)
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    (args.out / "report.json").write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    markdown = render_markdown(report)
    (args.out / "report.md").write_text(markdown, encoding="utf-8")
    write_docs = args.docs if args.docs is not None else not args.quick
    if write_docs:
        DOCS.write_text(markdown, encoding="utf-8")
        log(f"wrote {DOCS.relative_to(targets.ROOT)}")
    log(f"wrote {args.out / 'report.json'} and report.md in {report['duration_s']} s")
    return 0


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=targets.ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _node_version() -> str | None:
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


if __name__ == "__main__":
    sys.exit(main())
