"""``kilowatt`` command line: ``serve``, ``migrate``, ``simulate``, ``demo``, ``ocpp-coverage``.

Configuration comes from the environment (``KILOWATT_*``); flags only pick what to run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from kilowatt import __version__
from kilowatt.config import EventLoop, Role, Settings
from kilowatt.logs import configure_logging, get_logger

T = TypeVar("T")


def event_loop_factory(choice: EventLoop | str = EventLoop.auto) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the event loop a server runs on; None is asyncio's default loop.

    ``auto`` takes uvloop when it can be imported (it is a dependency except on Windows) and falls
    back to asyncio; ``uvloop`` insists on it; ``asyncio`` never uses it.
    """
    choice = EventLoop(choice)
    if choice is EventLoop.asyncio:
        return None
    try:
        import uvloop
    except ImportError:
        if choice is EventLoop.uvloop:
            raise RuntimeError("KILOWATT_EVENT_LOOP=uvloop, but uvloop cannot be imported") from None
        return None
    return uvloop.new_event_loop


def run_server(main: Coroutine[Any, Any, T], choice: EventLoop | str = EventLoop.auto) -> T:
    """``asyncio.run`` on the event loop ``choice`` selects (see :func:`event_loop_factory`)."""
    try:
        factory = event_loop_factory(choice)
    except BaseException:
        main.close()
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def tune_garbage_collection() -> None:
    """Fewer, cheaper collections for a long-running server.

    Everything imported at start-up is frozen out of the collector's sight, and the youngest
    generation is collected every 10,000 allocations instead of 700: with thousands of connections
    the default thresholds run the collector many times a second, for nothing (OCPP messages make
    few reference cycles). Not much higher: a pause grows with the generation collected, and with
    50,000 (x 20 for the middle generation) the benchmark saw 50 ms and 440 ms pauses at 10,000
    stations. The oldest generation is left to CPython's own rule (a full collection only once the
    long-lived heap has grown by a quarter).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 100)


def _serve(args: argparse.Namespace) -> int:
    """Run the CSMS until SIGTERM or SIGINT; 0 after a clean stop, 1 if it could not start or the
    stop took longer than ``KILOWATT_SHUTDOWN_TIMEOUT_S``."""
    from kilowatt.app import Application, ListenError
    from kilowatt.roles import RoleRefused

    settings = Settings()
    configure_logging(settings.log_level)

    async def main() -> bool:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        tune_garbage_collection()
        get_logger("kilowatt.cli").info("event loop", loop=f"{type(loop).__module__}.{type(loop).__qualname__}")
        return await Application(settings, Role(args.role)).run(stop)

    try:
        stopped_in_time = run_server(main(), settings.event_loop)
    except (ListenError, RoleRefused) as exc:  # an operator's configuration problem: one clear line, no traceback
        get_logger("kilowatt.cli").error("cannot start", error=str(exc))
        print(f"kilowatt serve: {exc}", file=sys.stderr)
        return 1
    return 0 if stopped_in_time else 1


def _migrate(args: argparse.Namespace) -> int:
    from kilowatt.storage.database import create_engine
    from kilowatt.storage.migrate import upgrade

    settings = Settings()
    configure_logging(settings.log_level)

    async def main() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine, args.revision)
        finally:
            await engine.dispose()

    asyncio.run(main())
    get_logger("kilowatt.cli").info("database migrated", revision=args.revision)
    return 0


def _quiet_logging() -> None:
    """Logs to stderr, WARNING unless ``KILOWATT_LOG_LEVEL`` is set: stdout is for the person (or the pipe)."""
    settings = Settings()
    level = settings.log_level if "log_level" in settings.model_fields_set else "WARNING"
    configure_logging(level, stream=sys.stderr)


def _simulate(args: argparse.Namespace) -> int:
    from kilowatt.simulator import cli as simulator_cli

    _quiet_logging()
    return asyncio.run(simulator_cli.run(args))


def _demo(args: argparse.Namespace) -> int:
    from kilowatt import demo

    _quiet_logging()
    options = demo.DemoOptions(
        duration_s=args.duration,
        stations=args.stations,
        ocpp_port=args.ocpp_port,
        http_port=args.http_port,
        seed=args.seed,
    )
    return run_server(demo.run(options, sys.stdout), Settings().event_loop)


def _ocpp_coverage(args: argparse.Namespace) -> int:
    from kilowatt.ocpp import coverage

    return coverage.main()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kilowatt", description="Kilowatt charging station management system (OCPP CSMS)")
    parser.add_argument("--version", action="version", version=f"kilowatt {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the CSMS (OCPP gateway and REST API)")
    serve.add_argument(
        "--role",
        choices=[role.value for role in Role],
        default=Role.all.value,
        help="what this process runs: all (default), gateway (station sockets), api (HTTP) or worker "
        "(background jobs, no listening socket); split roles need PostgreSQL and KILOWATT_REDIS_URL",
    )
    serve.set_defaults(func=_serve)

    migrate = commands.add_parser("migrate", help="apply database migrations (serve also does this at start)")
    migrate.add_argument("--revision", default="head", help="target revision (default: head)")
    migrate.set_defaults(func=_migrate)

    simulate = commands.add_parser("simulate", help="run simulated charge points against a CSMS")
    try:
        from kilowatt.simulator import cli as simulator_cli

        simulator_cli.add_arguments(simulate)
    except ImportError:  # the simulator package is optional at build time
        pass
    simulate.set_defaults(func=_simulate)

    demo = commands.add_parser(
        "demo",
        help="run the CSMS with simulated charge points on a temporary database, and show it working",
        description="Start Kilowatt on a temporary SQLite database with a small simulated fleet, send a few "
        "commands through the REST API, and print a summary at the end (Ctrl-C or --duration).",
    )
    demo.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this long (default: until Ctrl-C)")
    demo.add_argument("--stations", type=int, default=5, metavar="N", help="simulated charge points (default 5)")
    demo.add_argument(
        "--ocpp-port", type=int, metavar="PORT",
        help="OCPP port; 0 picks a free one (default: KILOWATT_OCPP_PORT or 9000, or a free one if taken)",
    )  # fmt: skip
    demo.add_argument(
        "--http-port", type=int, metavar="PORT",
        help="API port; 0 picks a free one (default: KILOWATT_HTTP_PORT or 8000, or a free one if taken)",
    )  # fmt: skip
    demo.add_argument("--seed", type=int, help="random seed for the simulated drivers")
    demo.set_defaults(func=_demo)

    coverage = commands.add_parser(
        "ocpp-coverage",
        help="print docs/ocpp-coverage.md: every OCPP action and what Kilowatt does with it, from the code",
    )
    coverage.set_defaults(func=_ocpp_coverage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
