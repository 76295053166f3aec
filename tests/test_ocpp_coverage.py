"""docs/ocpp-coverage.md is generated from the code, says what the code does, and is current."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from kilowatt.ocpp import coverage, v16, v21, v201
from kilowatt.ocpp.context import StationContext
from kilowatt.ocpp.coverage import Direction, Status
from kilowatt.ocpp.v21 import handlers as v21_handlers
from kilowatt.ocpp.v201 import handlers as v201_handlers
from kilowatt.rpc.errors import ErrorKind, OcppError
from kilowatt.rpc.protocol import Dialect, IncomingCall

ROOT = Path(__file__).resolve().parent.parent
DIALECTS: dict[str, Dialect] = {"ocpp1.6": v16.DIALECT, "ocpp2.0.1": v201.DIALECT, "ocpp2.1": v21.DIALECT}
STALE = (
    f"{coverage.PATH} is not what the code says any more. Regenerate it from the repository root with:\n\n"
    f"    {coverage.COMMAND}\n\n(the same text as: python -m kilowatt.ocpp.coverage > {coverage.PATH})"
)


def by_version() -> dict[str, coverage.VersionCoverage]:
    return {version.subprotocol: version for version in coverage.versions()}


def test_the_committed_file_is_what_the_command_generates() -> None:
    committed = (ROOT / coverage.PATH).read_text(encoding="utf-8")
    assert committed == coverage.generate(), STALE


def test_the_cli_prints_the_same_text() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "kilowatt.cli", "ocpp-coverage"], capture_output=True, text=True, check=True, timeout=120
    )
    assert printed.stdout == coverage.generate()


@pytest.mark.parametrize("subprotocol", list(DIALECTS))
def test_every_action_of_the_dialect_appears_once_with_its_direction(subprotocol: str) -> None:
    dialect, version = DIALECTS[subprotocol], by_version()[subprotocol]
    actions = [row.action for row in version.rows]
    assert sorted(actions) == sorted(dialect.station_actions | dialect.csms_actions)
    for row in version.rows:
        station, csms = row.action in dialect.station_actions, row.action in dialect.csms_actions
        expected = Direction.BOTH if station and csms else Direction.STATION_TO_CSMS if station else Direction.CSMS_TO_STATION
        assert row.direction == expected, row
        assert len(row.statuses) == (2 if expected is Direction.BOTH else 1)
    # and in the rendered page, under the version's own heading
    text = (ROOT / coverage.PATH).read_text(encoding="utf-8")
    section = text.split(f"## {version.title} (`{subprotocol}`)")[1].split("\n## ")[0]
    for action in actions:
        assert f"\n| {action} | " in section, f"{action} missing from the {subprotocol} section of {coverage.PATH}"


@pytest.mark.parametrize(
    ("subprotocol", "folder"), [("ocpp1.6", "v16/schemas"), ("ocpp2.0.1", "v201/schemas"), ("ocpp2.1", "v21/schemas")]
)
def test_the_dialect_knows_every_action_the_official_schemas_have(subprotocol: str, folder: str) -> None:
    """The table lists the dialect's actions; the dialect must not miss one the version has.

    Schema files: 1.6 ``X.json`` / ``XResponse.json``; 2.x ``XRequest.json`` / ``XResponse.json``,
    and 2.1's SEND messages ``X.json`` alone."""
    stems = {
        entry.name.removesuffix(".json")
        for entry in resources.files("ocpp").joinpath(folder).iterdir()
        if entry.name.endswith(".json")
    }
    answered = {stem.removesuffix("Response") for stem in stems if stem.endswith("Response")}
    requested = {stem.removesuffix("Request") for stem in stems if stem.endswith("Request")}
    alone = stems - {f"{action}Response" for action in answered} - {f"{action}Request" for action in requested}
    dialect = DIALECTS[subprotocol]
    assert answered | requested | alone == dialect.station_actions | dialect.csms_actions


def test_counts_per_version_and_status() -> None:
    versions = by_version()
    for version in versions.values():
        both = sum(row.direction is Direction.BOTH for row in version.rows)
        assert sum(version.count(status) for status in Status) == len(version.rows) + both
    # 1.6 is complete both ways; 2.1 has 2.0.1's actions plus the 27 it adds.
    assert versions["ocpp1.6"].count(Status.NOT_IMPLEMENTED) == versions["ocpp1.6"].count(Status.NOT_SENT) == 0
    assert len(versions["ocpp2.1"].rows) == len(versions["ocpp2.0.1"].rows) + 27
    text = coverage.generate()
    for version in versions.values():
        counts = " | ".join(str(version.count(status)) for status in Status)
        assert f"| {version.title} (`{version.subprotocol}`) | {len(version.rows)} | {counts} |" in text


@pytest.mark.parametrize(("subprotocol", "routes"), [("ocpp2.0.1", v201_handlers.routes), ("ocpp2.1", v21_handlers.routes)])
async def test_what_the_table_says_is_what_the_handlers_do(subprotocol: str, routes) -> None:  # noqa: ANN001
    """ "handled" rows have a route; every "answered NotImplemented" row really is answered so."""
    version, handled = by_version()[subprotocol], routes()
    handlers = v201_handlers.StationHandlers(services=None, routes=handled)  # type: ignore[arg-type]  # unrouted: never reached
    station = StationContext(station_id="CS-1", ocpp_version=subprotocol, registration_status="Accepted")
    for row in version.rows:
        if Status.HANDLED in row.statuses:
            assert row.action in handled
        if Status.NOT_IMPLEMENTED in row.statuses:
            assert row.action not in handled
            with pytest.raises(OcppError) as refused:
                await handlers.handle(station, IncomingCall("m-1", row.action, {}))
            assert refused.value.kind is ErrorKind.NOT_IMPLEMENTED, row.action


def test_a_route_or_operation_the_dialect_does_not_allow_is_an_error() -> None:
    with pytest.raises(ValueError, match="Reset"):
        coverage.cover("OCPP 2.0.1", v201.DIALECT, handled={"Reset"}, sent=())
    with pytest.raises(ValueError, match="Heartbeat"):
        coverage.cover("OCPP 2.0.1", v201.DIALECT, handled=(), sent={"Heartbeat"})
