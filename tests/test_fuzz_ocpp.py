"""Fuzzing a live Kilowatt with OCPP frames generated from the official schemas.

Hypothesis draws the frames: CALLs of every charger→CSMS action of every supported version, valid
or with one hostile value (NUL, numbers beyond 32/64 bits, floats for integers, overflowing years,
huge and non-Latin strings, deep nesting), and broken frames (truncated, wrong shapes, not JSON).
Each is sent to a running server on SQLite and on PostgreSQL, and must get:
- an answer to every CALL whose id is readable, CALLRESULT or CALLERROR, never InternalError;
- nothing stored when the answer is a CALLERROR;
- a connection that stays up;
while another station, on its own socket, keeps being answered throughout; and afterwards every
API page still answers.

The frames are drawn first and sent afterwards (hypothesis cannot drive an asyncio server
between examples), so a failure names its frame instead of shrinking it. CI sends
``KILOWATT_FUZZ_FRAMES`` frames per version and database (default 300) from a fixed seed; the
long run in docs/security.md sets more and a random seed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from importlib import resources
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from charger import TestCharger
from conftest import RunningCsms
from kilowatt.ocpp.v16 import dialect as v16
from kilowatt.rpc.errors import ErrorKind
from kilowatt.rpc.protocol import Dialect
from ocpp_fuzz import broken_frames, calls
from pages import failing, get_every_page
from test_charger_input_bounds import row_counts

FRAMES = int(os.environ.get("KILOWATT_FUZZ_FRAMES", "300"))
_SEED = os.environ.get("KILOWATT_FUZZ_SEED", "20261201")
SEED = random.randrange(2**32) if _SEED == "random" else int(_SEED)  # printed when a frame fails

# No input may ever cause these: they mean Kilowatt failed, not the sender.
NEVER = (ErrorKind.INTERNAL, ErrorKind.GENERIC)

# Every version Kilowatt speaks, with where its official schemas are; 2.0.1 and 2.1 join here.
VERSIONS: dict[str, tuple[Dialect, str]] = {"ocpp1.6": (v16.DIALECT, "v16/schemas")}


def request_schemas(dialect: Dialect, folder: str) -> dict[str, dict[str, Any]]:
    root = resources.files("ocpp").joinpath(folder)
    return {action: json.loads(root.joinpath(f"{action}.json").read_text()) for action in dialect.station_actions}


def draw_frames(dialect: Dialect, folder: str) -> list[tuple[str | None, str]]:
    """``FRAMES`` frames: ``(message id if it is a well-formed CALL, text)``."""
    schemas = request_schemas(dialect, folder)
    drawn: list[tuple[str | None, str]] = []
    frames = st.one_of(
        calls(schemas).map(lambda call: (call[0], call[1])),
        broken_frames(schemas).map(lambda text: (None, text)),
    )

    @settings(
        max_examples=FRAMES,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(SEED)
    @given(frames)
    def collect(frame: tuple[str | None, str]) -> None:
        drawn.append(frame)

    collect()
    return drawn


async def exchange(charger: TestCharger, text: str, sync_id: str) -> list[list[Any]]:
    """Send ``text``, then a Heartbeat; return every answer that came before the Heartbeat's."""
    await charger.send_raw(text)
    await charger.send_raw(json.dumps([2, sync_id, "Heartbeat", {}]))
    answers = []
    while True:
        answer = await charger.receive(timeout_s=10)
        if answer[1] == sync_id:
            assert answer[0] == 3, f"the Heartbeat after {text[:300]!r} got {answer}"
            return answers
        answers.append(answer)


async def keep_asking(csms: RunningCsms, stop: asyncio.Event) -> int:
    """Another station's Authorize and Heartbeat, answered correctly all along; returns how many."""
    await csms.services.authorization.create("CONTROL-TAG")
    answered = 0
    async with TestCharger.connect(csms.ocpp_url, "CP-CONTROL") as control:
        await control.boot()
        while not stop.is_set():
            assert (await control.call("Authorize", {"idTag": "CONTROL-TAG"}))["idTagInfo"]["status"] == "Accepted"
            assert "currentTime" in await control.call("Heartbeat", {})
            answered += 2
    return answered


@pytest.mark.parametrize("subprotocol", sorted(VERSIONS))
async def test_fuzzed_frames_get_answers_and_break_nothing(
    csms: RunningCsms, api: httpx.AsyncClient, subprotocol: str
) -> None:
    dialect, folder = VERSIONS[subprotocol]
    frames = draw_frames(dialect, folder)
    allowed_codes = set(dialect.error_codes.values()) - {dialect.code(kind) for kind in NEVER}
    for station_id in ("CP-FUZZ", "CP-CONTROL"):
        await csms.services.stations.create(station_id)
    stop = asyncio.Event()
    control = asyncio.create_task(keep_asking(csms, stop))
    refused = 0
    try:
        async with TestCharger.connect(csms.ocpp_url, "CP-FUZZ", [subprotocol]) as charger:
            await charger.boot()
            for number, (message_id, text) in enumerate(frames):
                before = await row_counts(csms)
                answers = await exchange(charger, text, f"sync-{number}")
                where = f"seed {SEED}, frame {number}: {text[:300]!r} answered {answers}"
                for answer in answers:
                    assert answer[0] in (3, 4), where
                    if answer[0] == 4:
                        assert answer[2] in allowed_codes, where
                if message_id is not None:
                    assert [answer[1] for answer in answers] == [message_id], where
                if answers and answers[-1][0] == 4:
                    refused += 1
                    assert await row_counts(csms) == before, f"{where}: stored something"
    finally:
        stop.set()
        answered = await control
    assert answered > 0 and 0 < refused < len(frames)  # the fuzzer reached both outcomes
    assert failing(await get_every_page(api, ["CP-FUZZ", "CP-CONTROL"])) == {}
