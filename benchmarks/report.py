"""The Markdown report (``report.md``, and ``docs/performance.md`` for full runs) from ``report.json``.

Hand-written analysis that should survive regeneration lives in ``benchmarks/analysis.md`` and is
included under "Where the time goes", after the measured profile.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

ANALYSIS = Path(__file__).resolve().parent / "analysis.md"
KILOWATT = ("kilowatt-sqlite", "kilowatt-postgres")
CLUSTER = ("kilowatt-cluster",)
PEERS = ("ocpp-py", "ocpp-rpc")
LABELS = {
    "kilowatt-sqlite": "Kilowatt SQLite",
    "kilowatt-postgres": "Kilowatt PostgreSQL",
    "kilowatt-cluster": "Kilowatt cluster (2 gw + api + worker)",
    "ocpp-py": "peer (a) ocpp (Python)",
    "ocpp-rpc": "peer (b) ocpp-rpc (node)",
}

Getter = Callable[[dict[str, Any]], float | int | None]


def _get(*path: str) -> Getter:
    def getter(target: dict[str, Any]) -> Any:
        node: Any = target
        for key in path:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    return getter


def _sc(scenario: str, *path: str) -> Getter:
    return _get("scenarios", scenario, *path)


# (label, getter, better, format); better: "lower" | "higher" | None (no ratio)
FIGURES: list[tuple[str, Getter, str | None, str]] = [
    ("1 at rest: stations connected", _sc("rest", "connected"), "higher", "{:.0f}"),
    ("1 at rest: connect + boot of all stations (s)", _sc("rest", "connect_s"), None, "{:.1f}"),
    ("1 at rest: RSS per connected station (KiB)", _sc("rest", "rss_per_station_kib"), "lower", "{:.1f}"),
    ("1 at rest: RSS with the fleet connected (MiB)", lambda t: _mib(_sc("rest", "rss_after_connect_kib")(t)), "lower", "{:.0f}"),
    ("1 at rest: CPU while idle (% of a core)", lambda t: _pct(_sc("rest", "cpu_util")(t)), None, "{:.1f}"),
    ("2 busy: messages/s", _sc("busy", "msg_per_s"), None, "{:.0f}"),
    ("2 busy: CSMS CPU per message (µs)", _sc("busy", "cpu_us_per_msg"), "lower", "{:.0f}"),
    ("2 busy: PostgreSQL backend CPU per message (µs)", _sc("busy", "db_cpu_us_per_msg"), None, "{:.0f}"),
    ("2 busy: latency p50 (ms)", _sc("busy", "latency_ms", "p50"), "lower", "{:.2f}"),
    ("2 busy: latency p95 (ms)", _sc("busy", "latency_ms", "p95"), "lower", "{:.2f}"),
    ("2 busy: latency p99 (ms)", _sc("busy", "latency_ms", "p99"), "lower", "{:.2f}"),
    ("2b sustained: messages/s achieved", _sc("sustained", "msg_per_s"), "higher", "{:.0f}"),
    ("2b sustained: CSMS CPU per message (µs)", _sc("sustained", "cpu_us_per_msg"), "lower", "{:.0f}"),
    ("2b sustained: CSMS CPU (% of a core)", lambda t: _pct(_sc("sustained", "cpu_util")(t)), None, "{:.0f}"),
    ("2b sustained: latency p50 (ms)", _sc("sustained", "latency_ms", "p50"), "lower", "{:.2f}"),
    ("2b sustained: latency p99 (ms)", _sc("sustained", "latency_ms", "p99"), "lower", "{:.2f}"),
    ("2b sustained: load generator CPU (% of a core)", lambda t: _pct(_sc("sustained", "loadgen_cpu_util")(t)), None, "{:.0f}"),
    ("3 boot storm: all connected (s)", _sc("storm", "all_connected_s"), "lower", "{:.2f}"),
    ("3 boot storm: all BootNotifications Accepted (s)", _sc("storm", "all_accepted_s"), "lower", "{:.2f}"),
    ("3 boot storm: all StatusNotifications answered (s)", _sc("storm", "all_statuses_s"), "lower", "{:.2f}"),
    ("3 boot storm: stations refused / errors", _sc("storm", "refused"), None, "{:.0f}"),
    ("3 boot storm: CSMS CPU per message (µs)", _sc("storm", "cpu_us_per_msg"), "lower", "{:.0f}"),
    ("4 tx burst: Start/Stop pairs per second", _sc("tx", "pairs_per_s"), "higher", "{:.0f}"),
    ("4 tx burst: messages/s", _sc("tx", "msg_per_s"), "higher", "{:.0f}"),
    ("4 tx burst: CSMS CPU per message (µs)", _sc("tx", "cpu_us_per_msg"), "lower", "{:.0f}"),
    ("4 tx burst: latency p99 (ms)", _sc("tx", "latency_ms", "p99"), "lower", "{:.1f}"),
    ("5 aligned burst: MeterValues in the burst", _sc("aligned", "messages"), None, "{:.0f}"),
    ("5 aligned burst: all answered after (s)", _sc("aligned", "drain_s"), "lower", "{:.2f}"),
    ("5 aligned burst: latency p50 (ms)", _sc("aligned", "latency_ms", "p50"), "lower", "{:.1f}"),
    ("5 aligned burst: latency p99 (ms)", _sc("aligned", "latency_ms", "p99"), "lower", "{:.1f}"),
    ("5 aligned burst: CSMS CPU per message (µs)", _sc("aligned", "cpu_us_per_msg"), "lower", "{:.0f}"),
    ("6 API command: HTTP round trip p50 (ms)", _sc("commands", "latency_ms", "p50"), "lower", "{:.2f}"),
    ("6 API command: HTTP round trip p99 (ms)", _sc("commands", "latency_ms", "p99"), "lower", "{:.2f}"),
    ("peak RSS over the run (MiB)", lambda t: _mib(t.get("peak_rss_kib")), "lower", "{:.0f}"),
    ("errors seen by the stations (all windows)", _get("errors"), None, "{:.0f}"),
]


def _mib(kib: Any) -> float | None:
    return None if kib is None else kib / 1024


def _pct(x: Any) -> float | None:
    return None if x is None else x * 100


def _fmt(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    return fmt.format(value)


def ratio(peer: Any, kilowatt: Any) -> float | None:
    """peer / Kilowatt: above 1 means the peer needs more of it (time, CPU, memory) or does more of it (rates)."""
    if peer is None or kilowatt is None or not kilowatt:
        return None
    return peer / kilowatt


def figures_table(report: dict[str, Any]) -> list[str]:
    present = [t for t in (*KILOWATT, *CLUSTER, *PEERS) if t in report["targets"]]
    lines = ["| figure | " + " | ".join(LABELS[t] for t in present) + " |", "|---|" + "---:|" * len(present)]
    for label, getter, _better, fmt in FIGURES:
        values = [_fmt(getter(report["targets"][t]), fmt) for t in present]
        lines.append(f"| {label} | " + " | ".join(values) + " |")
    return lines


def ratios_table(report: dict[str, Any]) -> list[str]:
    kws = [t for t in KILOWATT if t in report["targets"]]
    peers = [t for t in PEERS if t in report["targets"]]
    if not kws or not peers:
        return ["(no peer or no Kilowatt target in this run: no ratios)"]
    cols = [(p, k) for p in peers for k in kws]
    head = " | ".join(f"{LABELS[p].split(' ')[1]} ÷ {LABELS[k].split(' ', 1)[1]}" for p, k in cols)
    lines = [f"| figure | better | {head} |", "|---|---|" + "---:|" * len(cols)]
    for label, getter, better, _fmt_ in FIGURES:
        if better is None:
            continue
        cells = []
        for p, k in cols:
            r = ratio(getter(report["targets"][p]), getter(report["targets"][k]))
            cells.append("–" if r is None else f"{r:.2f}×")
        lines.append(f"| {label} | {better} | " + " | ".join(cells) + " |")
    return lines


SCENARIOS = ("rest", "busy", "sustained", "aligned", "tx", "storm")


def fleets_table(report: dict[str, Any]) -> list[str]:
    """The same scenarios with a fleet of another OCPP version, against the same server: CPU per message side by side."""
    fleets = report.get("fleets") or {}
    lines: list[str] = []
    for target, others in fleets.items():
        base = report["targets"].get(target)
        if not base:
            continue
        base_protocol = base.get("protocol", "ocpp1.6")
        for protocol, other in others.items():
            lines += [
                f"{LABELS.get(target, target)}: a {base_protocol} fleet vs a {protocol} fleet (fresh server for each plan;"
                f" CPU µs per message is the server's CPU in the window ÷ the OCPP messages in it, both directions).",
                "",
                f"| scenario | messages {base_protocol} | messages {protocol} | msg/s {base_protocol} | msg/s {protocol} "
                f"| CPU µs/msg {base_protocol} | CPU µs/msg {protocol} | {protocol} ÷ {base_protocol} | p99 ms {base_protocol} "
                f"| p99 ms {protocol} | errors |",
                "|---|" + "---:|" * 10,
            ]
            for name in SCENARIOS:
                a = (base.get("scenarios") or {}).get(name)
                b = (other.get("scenarios") or {}).get(name)
                if not a or not b:
                    continue
                r = ratio(b.get("cpu_us_per_msg"), a.get("cpu_us_per_msg"))
                lines.append(
                    f"| {name} | {_fmt(a.get('messages'), '{:,.0f}')} | {_fmt(b.get('messages'), '{:,.0f}')} "
                    f"| {_fmt(a.get('msg_per_s'), '{:,.1f}')} | {_fmt(b.get('msg_per_s'), '{:,.1f}')} "
                    f"| {_fmt(a.get('cpu_us_per_msg'), '{:,.0f}')} | {_fmt(b.get('cpu_us_per_msg'), '{:,.0f}')} "
                    f"| {'–' if r is None else f'{r:.2f}×'} "
                    f"| {_fmt((a.get('latency_ms') or {}).get('p99'), '{:,.1f}')} | {_fmt((b.get('latency_ms') or {}).get('p99'), '{:,.1f}')} "
                    f"| {a.get('errors', 0)} / {b.get('errors', 0)} |"
                )
            lines.append("")
    return lines


SCALEOUT_SCENARIOS = (
    ("rest", "1 at rest"), ("busy", "2 busy"), ("sustained", "2b sustained"), ("storm", "3 boot storm"),
    ("tx", "4 tx burst"), ("aligned", "5 aligned burst"),
)  # fmt: skip


def scaleout_section(report: dict[str, Any]) -> list[str]:
    """The cluster against one node on PostgreSQL: per-process CPU per message, latency, commands across nodes."""
    cluster = report["targets"].get("kilowatt-cluster")
    if not cluster:
        return []
    one = report["targets"].get("kilowatt-postgres") or {}
    members = cluster.get("members") or ["gateway-1", "gateway-2", "api", "worker"]
    lines = [
        "Two `--role gateway` processes, one `--role api`, one `--role worker` on PostgreSQL and Redis, the",
        "fleet split across the gateways by station index (BENCH-0001, -0003, … on gateway-1; -0002, … on gateway-2),",
        "against one `--role all` process on PostgreSQL (no Redis) with the same fleet and load. CPU µs per",
        "message is each process's CPU in the window ÷ all the window's OCPP messages (so the processes'",
        "figures add up to the cluster's); PostgreSQL backends and Redis are shown apart (Redis: the whole",
        "`redis-server`, which may serve others on the machine).",
        "",
        "| scenario | msg/s one node | msg/s cluster | CPU µs/msg one node | CPU µs/msg cluster (sum) | "
        + " | ".join(members) + " | Redis | PG backends one node / cluster | p50 ms one node / cluster | p99 ms one node / cluster |",
        "|---|" + "---:|" * (8 + len(members)),
    ]
    for name, title in SCALEOUT_SCENARIOS:
        a = (one.get("scenarios") or {}).get(name) or {}
        b = (cluster.get("scenarios") or {}).get(name) or {}
        if not b:
            continue
        procs = b.get("per_process") or {}
        lat_a, lat_b = a.get("latency_ms") or {}, b.get("latency_ms") or {}
        lines.append(
            f"| {title} | {_fmt(a.get('msg_per_s'), '{:,.0f}')} | {_fmt(b.get('msg_per_s'), '{:,.0f}')} "
            f"| {_fmt(a.get('cpu_us_per_msg'), '{:,.0f}')} | {_fmt(b.get('cpu_us_per_msg'), '{:,.0f}')} | "
            + " | ".join(_fmt((procs.get(m) or {}).get("cpu_us_per_msg"), "{:,.0f}") for m in members)
            + f" | {_fmt(b.get('redis_cpu_us_per_msg'), '{:,.0f}')} "
            f"| {_fmt(a.get('db_cpu_us_per_msg'), '{:,.0f}')} / {_fmt(b.get('db_cpu_us_per_msg'), '{:,.0f}')} "
            f"| {_fmt(lat_a.get('p50'), '{:,.1f}')} / {_fmt(lat_b.get('p50'), '{:,.1f}')} "
            f"| {_fmt(lat_a.get('p99'), '{:,.1f}')} / {_fmt(lat_b.get('p99'), '{:,.1f}')} |"
        )
    lines.append("")
    storm_a, storm_b = (one.get("scenarios") or {}).get("storm") or {}, (cluster.get("scenarios") or {}).get("storm") or {}
    lines += [
        f"Boot storm ({_fmt(storm_b.get('stations'), '{:.0f}')} stations at once): all Accepted after "
        f"{_fmt(storm_a.get('all_accepted_s'), '{:.2f}')} s on one node, {_fmt(storm_b.get('all_accepted_s'), '{:.2f}')} s "
        f"on the cluster; every status answered after {_fmt(storm_a.get('all_statuses_s'), '{:.2f}')} s / "
        f"{_fmt(storm_b.get('all_statuses_s'), '{:.2f}')} s; refused {storm_a.get('refused', '–')} / {storm_b.get('refused', '–')}.",
        "",
    ]
    ca = (one.get("scenarios") or {}).get("commands") or {}
    cb = (cluster.get("scenarios") or {}).get("commands") or {}
    if cb:
        la, lb = ca.get("latency_ms") or {}, cb.get("latency_ms") or {}
        lines += [
            f"API commands (`POST /api/v1/stations/{{id}}/{cb.get('command')}`, OCPP ClearCache), {cb.get('measured')} timed one"
            f" after another (after {cb.get('warmup')} untimed), round-robin over the fleet, the fleet otherwise quiet."
            " One node: HTTP → the station's socket in the same process. Cluster: HTTP on the API process → Redis →"
            " the gateway holding the socket → the station, and back; every command crosses nodes.",
            "",
            "| HTTP round trip (ms) | one node | cluster (crosses nodes) | added by crossing |",
            "|---|---:|---:|---:|",
        ]
        for key in ("p50", "p90", "p99", "mean"):
            diff = None if la.get(key) is None or lb.get(key) is None else lb[key] - la[key]
            lines.append(f"| {key} | {_fmt(la.get(key), '{:.2f}')} | {_fmt(lb.get(key), '{:.2f}')} | {_fmt(diff, '{:+.2f}')} |")
        per = cb.get("per_process_cpu_us_per_command") or {}
        lines += [
            "",
            f"CPU per command: one node {_fmt(ca.get('cpu_us_per_command'), '{:,.0f}')} µs (PostgreSQL backends "
            f"{_fmt(ca.get('db_cpu_us_per_command'), '{:,.0f}')} µs); cluster {_fmt(cb.get('cpu_us_per_command'), '{:,.0f}')} µs"
            " (" + ", ".join(f"{m} {_fmt(per.get(m), '{:,.0f}')}" for m in members) + f"; PostgreSQL backends "
            f"{_fmt(cb.get('db_cpu_us_per_command'), '{:,.0f}')} µs, Redis {_fmt(cb.get('redis_cpu_us_per_command'), '{:,.0f}')} µs). "
            f"Failed commands: {ca.get('failures') or 'none'} / {cb.get('failures') or 'none'}.",
            "",
        ]
    codes = cluster.get("member_exit_codes") or {}
    if codes:
        lines += [
            "Exit codes after SIGTERM: "
            + "; ".join(f"{plan}: " + ", ".join(f"{m} {c}" for m, c in per_plan.items()) for plan, per_plan in codes.items())
            + ".",
            "",
        ]
    return lines


def _verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("met" if ok else "**not met**")


def targets_table(report: dict[str, Any]) -> list[str]:
    t = report["targets"]
    n = report["settings"]["stations"]
    lines = ["| target | goal | achieved | verdict |", "|---|---|---|---|"]

    def row(name: str, goal: str, achieved: str, ok: bool | None) -> None:
        lines.append(f"| {name} | {goal} | {achieved} | {_verdict(ok)} |")

    for k in KILOWATT:
        if k not in t:
            continue
        kt = t[k]
        db = LABELS[k].split(" ", 1)[1]
        connected = _sc("rest", "connected")(kt)
        row(f"connected stations, one node ({db})", "≥ 10,000", f"{_fmt(connected, '{:.0f}')} of {n} offered",
            None if connected is None else connected >= 10_000)  # fmt: skip
        rss = _sc("rest", "rss_per_station_kib")(kt)
        row(f"RSS per idle connection ({db})", "≤ 20 KiB", f"{_fmt(rss, '{:.1f}')} KiB", None if rss is None else rss <= 20)
        cpu = _sc("busy", "cpu_us_per_msg")(kt)
        row(f"CPU per message, busy fleet ({db})", "≤ 100 µs", f"{_fmt(cpu, '{:.0f}')} µs", None if cpu is None else cpu <= 100)
        if "ocpp-py" in t:
            r = ratio(_sc("busy", "cpu_us_per_msg")(t["ocpp-py"]), cpu)
            row(f"CPU per message vs peer (a) ({db})", "peer (a) ≥ 2.5× Kilowatt", _fmt(r, "{:.2f}×"), None if r is None else r >= 2.5)
        if "ocpp-rpc" in t:
            r = ratio(cpu, _sc("busy", "cpu_us_per_msg")(t["ocpp-rpc"]))
            row(f"CPU per message vs peer (b) ({db})", "Kilowatt ≤ 1.5× peer (b)", _fmt(r, "{:.2f}×"), None if r is None else r <= 1.5)
        storm = _sc("storm", "all_accepted_s")(kt)
        refused = _sc("storm", "refused")(kt)
        stations = _sc("storm", "stations")(kt)
        ok = None if storm is None else (storm <= 20 and not refused and (stations or 0) >= 10_000)
        row(f"boot storm, all Accepted ({db})", "10,000 in ≤ 20 s, none refused",
            f"{stations} in {_fmt(storm, '{:.1f}')} s, {refused} refused", ok)  # fmt: skip
        rate = _sc("sustained", "msg_per_s")(kt)
        p99 = _sc("sustained", "latency_ms", "p99")(kt)
        ok = None if rate is None or p99 is None else (rate >= 0.95 * 2000 and p99 <= 50)
        row(f"p99 latency at 2,000 msg/s sustained ({db})", "p99 ≤ 50 ms at 2,000 msg/s",
            f"p99 {_fmt(p99, '{:.1f}')} ms at {_fmt(rate, '{:.0f}')} msg/s", ok)  # fmt: skip
    return lines


def profile_section(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for k in KILOWATT:
        target = report["targets"].get(k)
        if not target or "profile" not in target:
            continue
        prof = target["profile"]
        window = target.get("profile_window") or {}
        load = report.get("settings", {}).get("profile_load", "sustained")
        lines.append(f"### {LABELS[k]}: py-spy during the {'busy fleet' if load == 'busy' else 'sustained load'}")
        lines.append("")
        if "error" in prof:
            lines += [f"Profile not taken: {prof['error']}", ""]
            continue
        lines.append(
            f"{prof['samples']} on-CPU samples over {window.get('window_s', '?')} s at "
            f"{_fmt(window.get('msg_per_s'), '{:.0f}')} msg/s (the sampler slows the server; shares, not absolute times, count here)."
        )
        waits = prof.get("waiting_samples_dropped") or {}
        if waits:
            lines += ["", "Samples py-spy took while the thread was in fact waiting, left out of the shares below: "
                      + ", ".join(f"{kind} {n}" for kind, n in waits.items()) + "."]  # fmt: skip
        lines += ["", "CPU by layer (innermost frame that belongs to a layer; C code counts to its caller):", "",
                  "| layer | share |", "|---|---:|"]  # fmt: skip
        lines += [f"| {row['layer']} | {row['share'] * 100:.1f} % |" for row in prof["layers"][:14]]
        lines += ["", "Top Python functions by self time (C code they call counts to them):", "",
                  "| function (file) | self |", "|---|---:|"]  # fmt: skip
        lines += [f"| `{row['function']}` | {row['share'] * 100:.1f} % |" for row in prof["self"][:15]]
        if prof.get("native_self"):
            lines += ["", "Top innermost frames including C (`--native`):", "", "| frame | self |", "|---|---:|"]
            lines += [f"| `{row['function']}` | {row['share'] * 100:.1f} % |" for row in prof["native_self"][:10]]
        lines += ["", "Top functions by inclusive time (below the event loop):", "", "| function (file) | inclusive |", "|---|---:|"]
        shown = 0
        for row in prof["inclusive"]:
            name = row["function"]
            if row["share"] > 0.97 or "asyncio/" in name or "<module>" in name or ".py)" not in name or "threading.py" in name or "runpy" in name:
                continue
            lines.append(f"| `{row['function']}` | {row['share'] * 100:.1f} % |")
            shown += 1
            if shown == 20:
                break
        lines.append("")
    return lines


def render_markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    m = report["machine"]
    lines = [
        "# Performance",
        "",
        "<!-- Generated by `python -m benchmarks.run` from its report.json; edit benchmarks/report.py or",
        "     benchmarks/analysis.md instead, then re-run. -->",
        "",
        f"Measured **{report['date']}** at commit `{report.get('git_commit')}` with",
        "",
        "```sh",
        f".venv/bin/{report['command'].replace('python -m', 'python -m', 1)}",
        "```",
        "",
        f"Machine: {m.get('cpus')} CPUs ({m.get('cpu_model', '?')}), {m.get('memory_gib', '?')} GiB RAM, Linux "
        f"{m.get('kernel')}, Python {m.get('python')}, node {m.get('node')}; fd limit {report['fd_limit']}. "
        f"Load average at start {m.get('load_average_at_start')}, at end {m.get('load_average_at_end')}. "
        f"The whole run took {report['duration_s']:.0f} s.",
        "",
    ]
    if report.get("notes"):
        lines += ["Notes on this run:", ""] + [f"- {n}" for n in report["notes"]] + [""]
    lines += [
        "## How it is measured",
        "",
        "One command, `.venv/bin/python -m benchmarks.run --stations 10000 --out benchmarks/results`, runs",
        "every scenario against every system under test and writes `report.json` and `report.md` there",
        "(`--quick` for a tiny fleet and 3 s windows; `--targets`, `--plans`, `--window` to narrow it;",
        "`--protocols ocpp1.6,ocpp2.0.1` runs the same scenarios with a fleet of each OCPP version).",
        "",
        "- **Processes.** The system under test runs alone in its own process: `kilowatt serve` with",
        "  `KILOWATT_*` (free ports, its own SQLite file or a freshly created PostgreSQL database,",
        "  log level WARNING, the post-boot GetConfiguration after a random 0-1 s instead of 0-10 s;",
        "  stations and id tokens registered in the database beforehand), or a peer.",
        "  The load generator is the project's simulator (`kilowatt.simulator.Fleet`) in a second",
        "  process (`benchmarks/loadgen.py`); both raise their fd limit to the hard limit.",
        "- **Windows.** The load generator announces the start and end of each measured window on a",
        "  pipe and waits while the harness reads `/proc/<pid>/stat` (user + system CPU of all the",
        "  server's threads) and `/proc/<pid>/status` (VmRSS, VmHWM) of the server. For PostgreSQL the",
        "  CPU of the backends serving the benchmark database is measured the same way and shown apart.",
        "- **Messages** are OCPP CALLs in the window in both directions (station → CSMS, plus CSMS →",
        "  station such as Kilowatt's GetConfiguration after boot); each is answered. *CPU per message* =",
        "  CSMS CPU time in the window ÷ messages.",
        "- **Latency** is each CALL's round trip as the station sees it (sent → answer received), one",
        "  fresh histogram per window (±2.5 % buckets), so it covers exactly that window's messages. It",
        "  includes the load generator's own scheduling delay; its CPU use is reported (near 100 % of a",
        "  core means the generator, not the CSMS, limits the rate).",
        "- **Peers** get the same stations, the same load and the same machine, started the same way.",
        "  Ratios are peer ÷ Kilowatt: for time, CPU and memory above 1× means the peer needs more than",
        "  Kilowatt; for rates above 1× means the peer achieved more.",
        "",
        f"Settings: N = {s['stations']} stations with {s['connectors_per_station']} connectors each, "
        f"{s['window_s']:g} s windows, connecting at {s['connect_rate_per_s']:g}/s before the steady "
        f"scenarios; busy fleet {s['busy_fraction'] * 100:.0f} % charging with MeterValues every "
        f"{s['meter_interval_s']:g} s; sustained window offering {s['target_rate_per_s']:g} MeterValues/s; "
        f"transaction burst {s['tx_pairs']} pairs.",
        "",
        "Scenarios:",
        "",
        "1. **Fleet at rest** — N stations connect, boot, report their connectors, then idle (heartbeats",
        "   every 300 s; the server pings each socket every 30 s — Kilowatt's default, which notices a dead",
        "   socket within 60 s, and the peers' setting in this harness). RSS per station = (RSS after",
        "   connecting − RSS before) ÷ N.",
        "2. **Busy fleet** — 30 % of the stations charge; MeterValues every 10 s (start times spread evenly).",
        "   **2b. Sustained** — the same sessions with the interval shortened to offer 2,000 MeterValues/s.",
        "3. **Boot storm** — a fresh server; all N stations open their socket in the same instant and send",
        "   BootNotification and then a StatusNotification per connector (and for connector 0).",
        "4. **Transaction burst** — the given number of StartTransaction/StopTransaction pairs at once (one",
        "   pair per station on its second connector, StatusNotifications around them, no Authorize).",
        "5. **Clock-aligned burst** — every charging station sends one `Sample.Clock` MeterValues in the same",
        "   second; the window closes when the last is answered.",
        "6. **API commands** (Kilowatt) — after the burst, the harness sends API commands (ClearCache) one",
        "   after another to the stations through the HTTP API and times each round trip; for the cluster",
        "   (`kilowatt-cluster`) every one crosses from the API process to a gateway through Redis.",
        "",
        "## Achieved vs target",
        "",
        *targets_table(report),
        "",
        "## Figures",
        "",
        *figures_table(report),
        "",
        "## Ratios to Kilowatt",
        "",
        *ratios_table(report),
        "",
    ]
    if report.get("fleets"):
        lines += ["## Fleets by OCPP version", "", *fleets_table(report)]
    if "kilowatt-cluster" in report["targets"]:
        lines += ["## Scale-out: two gateways, API and worker", "", *scaleout_section(report)]
    if report.get("skipped"):
        lines += ["Skipped targets:", ""] + [f"- {k}: {v}" for k, v in report["skipped"].items()] + [""]
    errors = {
        LABELS.get(k, k): v for k, v in ((k, t.get("scenarios", {})) for k, t in report["targets"].items())
    }
    kinds = []
    for label, scenarios in errors.items():
        for name, sc in scenarios.items():
            if sc and (sc.get("errors_by_kind") or sc.get("rejected_by_action")):
                kinds.append(f"- {label}, {name}: errors {sc.get('errors_by_kind')}, refused {sc.get('rejected_by_action')}")
    if kinds:
        lines += ["Errors and refusals by kind:", "", *kinds, ""]
    lines += ["## Where the time goes", ""]
    lines += profile_section(report)
    if ANALYSIS.exists():
        lines += [ANALYSIS.read_text(encoding="utf-8").strip(), ""]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Re-render a report: ``python -m benchmarks.report REPORT.json [OUT.md]`` (e.g. after editing analysis.md)."""
    import sys

    import orjson

    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m benchmarks.report REPORT.json [OUT.md]", file=sys.stderr)
        return 2
    report = orjson.loads(Path(args[0]).read_bytes())
    markdown = render_markdown(report)
    if len(args) > 1:
        Path(args[1]).write_text(markdown, encoding="utf-8")
    else:
        sys.stdout.write(markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
