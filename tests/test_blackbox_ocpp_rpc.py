"""Black-box: the independent npm ``ocpp-rpc`` client in strict mode plays the charger.

Its own OCPP 1.6 schemas check every answer we send, so a schema mistake shared by our validator
and our handlers cannot hide. The test installs the pinned client (``npm ci``) on first run; without
node and npm it skips, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import httpx
import pytest

from conftest import ADMIN_TOKEN, IN_CI, RunningCsms

BLACKBOX = Path(__file__).parent / "blackbox"
pytestmark = pytest.mark.node


def _require_node() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm:
        return node, npm
    if IN_CI:
        pytest.fail("CI=true but node/npm are missing: the black-box ocpp-rpc test cannot run")
    pytest.skip("node and npm are needed for the black-box ocpp-rpc test")


async def _run(*command: str, cwd: Path, timeout_s: float) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env={**os.environ, "BLACKBOX_QUIET": "1"}
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout_s)
    return process.returncode or 0, stdout.decode(), stderr.decode()


async def _install(npm: str) -> None:
    if (BLACKBOX / "node_modules" / "ocpp-rpc" / "package.json").exists():
        return
    code, out, err = await _run(npm, "ci", "--no-audit", "--no-fund", cwd=BLACKBOX, timeout_s=300)
    if code != 0:
        message = f"npm ci failed in {BLACKBOX}: {err or out}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.parametrize("password", [None, "blackbox-password-0001"])
async def test_strict_ocpp_rpc_charger_runs_a_full_session(csms: RunningCsms, password: str | None) -> None:
    node, npm = _require_node()
    await _install(npm)
    await csms.services.stations.create("BB-1", password=password)
    await csms.services.authorization.create("BB-TAG")

    args = [node, "charger16.mjs", csms.ocpp_url, "BB-1", "BB-TAG"] + ([password] if password else [])
    code, out, err = await _run(*args, cwd=BLACKBOX, timeout_s=120)
    assert out.strip(), f"no report from the black-box charger; stderr: {err}"
    report = json.loads(out.strip().splitlines()[-1])
    assert report["failures"] == [], report
    assert report["ok"] is True and code == 0
    assert report["errors"] == {"unknownAction": "NotImplemented", "wrongType": "TypeConstraintViolation"}
    assert (report["bootStatus"], report["authorizeStatus"], report["startStatus"]) == ("Accepted",) * 3

    async with httpx.AsyncClient(base_url=csms.api_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as api:
        response = await api.get(f"/api/v1/transactions/{report['transactionId']}")
    assert response.status_code == 200, response.text
    transaction = response.json()
    assert (transaction["station_id"], transaction["id_token"]) == ("BB-1", "BB-TAG")
    assert (transaction["meter_start_wh"], transaction["meter_stop_wh"], transaction["energy_wh"]) == (1000, 6000, 5000)
    assert transaction["stopped_at"] is not None
