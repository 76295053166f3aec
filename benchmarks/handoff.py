"""What one write batch costs on its own: ``python -m benchmarks.handoff [--loop asyncio|uvloop]``.

The busy-fleet scenario sends messages so far apart that every message is a write batch of one,
so its CPU per message is this fixed cost plus the socket work. This measures, in one process on
a throw-away SQLite file, the CPU time of N awaited batches one after the other:

- ``thread hand-off``: ``run_in_executor(int)`` — the bare cost of crossing to a thread and back,
  which a batch paid on SQLite when it ran on aiosqlite's thread (before 38bb568);
- ``empty batch``: a write that does nothing (pool checkout, BEGIN/COMMIT);
- ``one-row insert``: one MeterValues row, as the busy fleet writes it.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kilowatt.services.transactions import _INSERT_METER_VALUE, MeterSample, _meter_row
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import create_engine
from kilowatt.storage.migrate import upgrade


async def measure(batches: int) -> dict[str, float]:
    """CPU µs per batch of each kind."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(tmp) / 'handoff.db'}")
        await upgrade(engine)
        writes = WriteBatcher(engine)
        statement = _INSERT_METER_VALUE  # as the busy fleet writes: repeats dropped by repeat_key
        at = datetime.now(UTC)
        rows = iter(  # distinct readings (one row a batch), built before the clock starts
            [
                _meter_row("CP-1", 1, 1, None, MeterSample(at + timedelta(seconds=n), "1234.5", unit="Wh"), "MeterValues")
                for n in range(batches)
            ]
        )
        loop = asyncio.get_running_loop()
        thread = concurrent.futures.ThreadPoolExecutor(1)
        kinds = {
            "thread hand-off": lambda: loop.run_in_executor(thread, int),
            "empty batch": lambda: writes.run(lambda connection: None),
            "one-row insert": lambda: writes.insert(statement, [next(rows)]),
        }
        results = {}
        for name, batch in kinds.items():
            started = time.process_time()
            for _ in range(batches):
                await batch()
            results[name] = (time.process_time() - started) / batches * 1e6
        thread.shutdown()
        await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loop", choices=("asyncio", "uvloop"), default="uvloop")
    parser.add_argument("--batches", type=int, default=2000)
    args = parser.parse_args()
    factory = None
    if args.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        results = runner.run(measure(args.batches))
    for name, micros in results.items():
        print(f"{name:>16}: {micros:6.0f} µs CPU per batch ({args.loop})")


if __name__ == "__main__":
    main()
