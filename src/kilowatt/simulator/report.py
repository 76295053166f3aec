"""How a run looks to a person: the live line on stderr and the final report on stdout."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kilowatt.simulator.stats import FleetStats

if TYPE_CHECKING:
    from kilowatt.simulator.fleet import FleetSnapshot


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def summary_line(snapshot: FleetSnapshot, stats: FleetStats) -> str:
    """One line, every few seconds: is it working, and how fast?"""
    latency = stats.latency
    return (
        f"[{snapshot.elapsed_s:7.1f}s] connected {snapshot.connected}/{snapshot.stations}"
        f"  charging {snapshot.charging}"
        f"  sessions {stats.sessions_completed}"
        f"  energy {stats.energy_wh / 1000:.2f} kWh"
        f"  errors {sum(stats.errors.values())}"
        f"  latency p50 {_ms(latency.percentile(0.5))} ms p99 {_ms(latency.percentile(0.99))} ms"
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def format_report(report: dict[str, Any]) -> str:
    """The final report as text."""
    latency = report["latency_ms"]
    lines = [
        "Kilowatt simulator report",
        f"  CSMS               {report['url']}",
        f"  duration           {report['duration_s']:.1f} s",
        f"  stations           {report['stations']} ({_counts(report['protocols'])}),"
        f" {report['connected_at_end']} connected at the end",
        f"  messages sent      {report['messages_sent']}"
        + (f" ({_counts(report['messages_sent_by_action'])})" if report["messages_sent"] else ""),
        f"  messages received  {report['messages_received']}"
        + (f" ({_counts(report['messages_received_by_action'])})" if report["messages_received"] else ""),
        f"  call latency       p50 {_ms(latency['p50'])} ms, p95 {_ms(latency['p95'])} ms,"
        f" p99 {_ms(latency['p99'])} ms, max {_ms(latency['max'])} ms",
        f"  sessions           {report['sessions_started']} started, {report['sessions_completed']} completed,"
        f" {report['drivers_turned_away']} drivers found no free connector",
        f"  energy delivered   {report['energy_delivered_kwh']:.3f} kWh",
        f"  connections        {report['connects']} ({report['reconnects']} reconnects),"
        f" {report['offline_messages_replayed']} offline messages replayed, {report['messages_dropped']} dropped",
        f"  errors             {report['errors']}"
        + (f" ({_counts(report['errors_by_kind'])})" if report["errors"] else ""),
    ]
    if report["rejected_by_action"]:
        lines.append(f"  refused by CSMS    {_counts(report['rejected_by_action'])}")
    if report["faults_injected"]:
        lines.append(f"  faults injected    {_counts(report['faults_injected'])}")
    return "\n".join(lines)
