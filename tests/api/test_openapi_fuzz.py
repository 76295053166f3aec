"""Schemathesis against the live API: every operation in /openapi.json, fuzzed, with every check on.

The server is the real one (``csms``: SQLite and PostgreSQL); schemathesis runs as its CLI in a
subprocess, as an operator would run it, while this test's event loop serves the requests.

How much is generated comes from the environment, so CI stays short and a long run is one command:

    KILOWATT_FUZZ_EXAMPLES=500 KILOWATT_FUZZ_MAX_TIME_S=900 .venv/bin/pytest tests/api/test_openapi_fuzz.py -k sqlite

(docs/security.md has the last long run's figures.)
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from conftest import ADMIN_TOKEN, RunningCsms

EXAMPLES = int(os.environ.get("KILOWATT_FUZZ_EXAMPLES", "5"))
MAX_TIME_S = os.environ.get("KILOWATT_FUZZ_MAX_TIME_S")  # a time budget instead: fuzzing repeats until it is spent
SEED = os.environ.get("KILOWATT_FUZZ_SEED", "1")

# Every check schemathesis has. Two of them do little here: use_after_free and
# ensure_resource_availability need create/delete pairs linked in the schema (OpenAPI links), which
# this API does not declare. The one exception made is positive_data_acceptance's, below.
CHECKS = "all"

# Schema-valid requests the API refuses with 422 for a reason a JSON schema cannot state
# (positive_data_acceptance would call these bugs). Each is a rule about stored data or time:
# - a reservation's expiry_date must be in the future;
# - an id token's parent_id_token must name an existing token (and not itself), and so must every
#   token of a local list;
# - a configuration key that is a station password must be 16 to 40 characters;
# - a timestamp past year 9999 once converted to UTC cannot be stored.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "401", "403", "404", "409", "429"]

[[operations]]
include-path-regex = "^/api/v1/(stations/\\\\{station_id\\\\}/reservations|id-tokens|stations/\\\\{station_id\\\\}/(configuration|local-list))"
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422", "429"]
"""


async def test_openapi_fuzz(csms: RunningCsms, tmp_path: Path) -> None:
    await csms.services.stations.create("CP-1")  # so some generated requests reach a real (offline) station
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{csms.api_url}/openapi.json",
        "--checks",
        CHECKS,
        "--header",
        f"Authorization: Bearer {ADMIN_TOKEN}",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        SEED,
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
    ]
    if MAX_TIME_S:
        command += ["--max-time", MAX_TIME_S]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path
    )
    output, _ = await process.communicate()
    text = output.decode(errors="replace")
    report = os.environ.get("KILOWATT_FUZZ_REPORT")  # a file for the whole output of a long run
    if report:
        Path(report).write_text(text)
    print(text[-6000:])
    assert process.returncode == 0, text[-20000:]
