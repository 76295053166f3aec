"""What de-duplicating keyless messages costs a write: ``python -m benchmarks.repeat_keys [--postgres URL]``.

A 1.6 MeterValues row carries a ``repeat_key`` (a blake2b hash of its content) under a unique
index, and is inserted with ``ON CONFLICT DO NOTHING`` (kilowatt/storage/repeats.py). This
measures, in one process and one run, meter-value inserts through the write batcher two ways:

- ``without``: the unique index dropped, rows without a key, a plain INSERT (as before 0013);
- ``with``: the index, the key computed for every row (inside the timing), ON CONFLICT DO NOTHING;

for batches of one row (the busy fleet: one MeterValues a batch) and of 100 rows (a burst), on
SQLite and, given ``--postgres``, on PostgreSQL (that database's schema is dropped and rebuilt).
The rounds alternate (without, with, without, with) so that a noisy machine hits both alike.
Figures: CPU µs of this process per row, and wall µs per row.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from kilowatt.services.transactions import _INSERT_METER_VALUE, MeterSample, _meter_row
from kilowatt.storage.batch import WriteBatcher
from kilowatt.storage.database import create_engine
from kilowatt.storage.migrate import upgrade
from kilowatt.storage.models import MeterValue

_PLAIN_INSERT = insert(MeterValue.__table__)
_INDEX = "ux_meter_values_repeat_key"


async def _round(writes: WriteBatcher, keyed: bool, rows: int, per_batch: int, start: datetime) -> tuple[float, float]:
    """CPU and wall µs per row of ``rows`` inserted ``per_batch`` at a time."""
    cpu, wall = time.process_time(), time.perf_counter()
    for first in range(0, rows, per_batch):
        batch = []
        for n in range(first, first + per_batch):
            row = _meter_row("CP-1", 1, 1, None, MeterSample(start + timedelta(seconds=n), str(1000 + n), unit="Wh"), "MeterValues")
            if not keyed:
                del row["repeat_key"]
            batch.append(row)
        await writes.insert(_INSERT_METER_VALUE if keyed else _PLAIN_INSERT, batch)
    return (time.process_time() - cpu) / rows * 1e6, (time.perf_counter() - wall) / rows * 1e6


async def measure(url: str, rows: int, rounds: int) -> dict[str, dict[str, Any]]:
    engine = create_engine(url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    await upgrade(engine)
    writes = WriteBatcher(engine)
    results: dict[str, dict[str, Any]] = {}
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for per_batch in (1, 100):
        figures: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
        for _ in range(rounds):
            for keyed in (False, True):
                async with engine.begin() as connection:
                    await connection.execute(text(f"DROP INDEX IF EXISTS {_INDEX}"))
                    await connection.execute(text("DELETE FROM meter_values"))
                    if keyed:
                        await connection.execute(text(f"CREATE UNIQUE INDEX {_INDEX} ON meter_values (repeat_key)"))
                figures[keyed].append(await _round(writes, keyed, rows, per_batch, start))
        for keyed, runs in figures.items():
            results[f"{per_batch:>3}-row batches, {'with' if keyed else 'without'} repeat keys"] = {
                "cpu_us_per_row": min(cpu for cpu, _ in runs),  # the least disturbed round
                "wall_us_per_row": min(wall for _, wall in runs),
            }
    await writes.close()
    await engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=3000, help="rows per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", help="a PostgreSQL URL (postgresql+asyncpg://...) whose schema may be dropped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        targets = {"SQLite": f"sqlite+aiosqlite:///{Path(tmp) / 'repeat_keys.db'}"}
        if args.postgres:
            targets["PostgreSQL"] = args.postgres
        for name, url in targets.items():
            results = asyncio.run(measure(url, args.rows, args.rounds))
            print(f"{name} ({args.rows} rows a round, best of {args.rounds}):")
            for label, figures in results.items():
                print(f"  {label}: {figures['cpu_us_per_row']:7.1f} µs CPU/row  {figures['wall_us_per_row']:7.1f} µs wall/row")


if __name__ == "__main__":
    main()
