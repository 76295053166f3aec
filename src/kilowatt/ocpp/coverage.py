"""docs/ocpp-coverage.md, generated from the code: every action of OCPP 1.6, 2.0.1 and 2.1, its
direction, and what Kilowatt does with it.

Nothing here is written by hand: the actions and their directions are the dialects'
(``ocpp/<version>/dialect.py``), "handled" means a handler is routed for a station's message
(1.6 ``ChargePointHandlers``, 2.0.1 and 2.1 ``handlers.routes()``), "sent from the API" means the
version's command codec has an operation that sends it (``actions()`` of ``V16Commands``,
``V201Commands``, ``V21Commands``). So the table cannot claim more than the code does, and a test
(tests/test_ocpp_coverage.py) fails when the committed file is stale. Regenerate with
:data:`COMMAND`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, cast

from kilowatt.rpc.protocol import Dialect

if TYPE_CHECKING:
    from kilowatt.services.bundle import Services

COMMAND = "kilowatt ocpp-coverage > docs/ocpp-coverage.md"
PATH = "docs/ocpp-coverage.md"


class Direction(StrEnum):
    STATION_TO_CSMS = "station→CSMS"
    CSMS_TO_STATION = "CSMS→station"
    BOTH = "both"


class Status(StrEnum):
    HANDLED = "handled"  # a station's message, routed to a handler
    SENT = "sent from the API"  # a CSMS message our codec encodes for a typed command
    NOT_IMPLEMENTED = "answered NotImplemented"  # a station's message with no handler
    NOT_SENT = "not sent yet"  # a CSMS message no typed command encodes to


@dataclass(frozen=True, slots=True)
class Row:
    action: str
    direction: Direction
    statuses: tuple[Status, ...]  # one per direction the action goes: DataTransfer has two
    send: bool = False  # an OCPP 2.1 SEND (message type 6): never answered


@dataclass(frozen=True, slots=True)
class VersionCoverage:
    title: str
    subprotocol: str
    rows: tuple[Row, ...]

    def count(self, status: Status) -> int:
        return sum(status in row.statuses for row in self.rows)


class _Lister(Protocol):
    def actions(self) -> frozenset[str]: ...


def cover(title: str, dialect: Dialect, handled: Iterable[str], sent: Iterable[str], send: Iterable[str] = ()) -> VersionCoverage:
    """One version's rows, from its dialect, the actions its handlers route and those its codec sends.

    A handler for an action the dialect does not let a station send, or a codec operation for one
    the CSMS may not send, is a bug in that version's code, not a row: it raises ``ValueError``.
    """
    handled, sent, send = frozenset(handled), frozenset(sent), frozenset(send)
    if stray := handled - dialect.station_actions:
        raise ValueError(f"{title}: handlers routed for actions a station does not send: {sorted(stray)}")
    if stray := sent - dialect.csms_actions:
        raise ValueError(f"{title}: the codec sends actions the CSMS may not send: {sorted(stray)}")
    rows = []
    for action in sorted(dialect.station_actions | dialect.csms_actions):
        statuses: list[Status] = []
        if action in dialect.station_actions:
            statuses.append(Status.HANDLED if action in handled else Status.NOT_IMPLEMENTED)
        if action in dialect.csms_actions:
            statuses.append(Status.SENT if action in sent else Status.NOT_SENT)
        if action in dialect.station_actions and action in dialect.csms_actions:
            direction = Direction.BOTH
        else:
            direction = Direction.STATION_TO_CSMS if action in dialect.station_actions else Direction.CSMS_TO_STATION
        rows.append(Row(action, direction, tuple(statuses), action in send))
    return VersionCoverage(title, dialect.subprotocol, tuple(rows))


def _actions(codec: Callable[[], _Lister]) -> frozenset[str]:
    return codec().actions()


def versions() -> tuple[VersionCoverage, ...]:
    """Every version Kilowatt speaks, oldest first, as the code stands."""
    from kilowatt.ocpp import v16, v21, v201
    from kilowatt.ocpp.v16.codec import V16Commands
    from kilowatt.ocpp.v16.handlers import ChargePointHandlers
    from kilowatt.ocpp.v21 import handlers as v21_handlers
    from kilowatt.ocpp.v21.codec import V21Commands
    from kilowatt.ocpp.v21.dialect import SEND_ACTIONS
    from kilowatt.ocpp.v201 import handlers as v201_handlers
    from kilowatt.ocpp.v201.codec import V201Commands

    return (
        # Routing is fixed when the handlers are built; listing it needs no services.
        cover("OCPP 1.6", v16.DIALECT, ChargePointHandlers(cast("Services", None)).actions(), _actions(V16Commands)),
        cover("OCPP 2.0.1", v201.DIALECT, v201_handlers.routes(), _actions(V201Commands)),
        cover("OCPP 2.1", v21.DIALECT, v21_handlers.routes(), _actions(V21Commands), SEND_ACTIONS),
    )


def render(covered: Iterable[VersionCoverage]) -> str:
    covered = tuple(covered)
    statuses = tuple(Status)
    lines = [
        "# OCPP coverage",
        "",
        f"Generated from the code by `{COMMAND}`; do not edit by hand (a test fails when this file is stale).",
        "",
        "Every action of each version, its direction, and what Kilowatt does with it:",
        "",
        f"- **{Status.HANDLED}**: a station's message is routed to a handler, validated, stored and answered.",
        f"- **{Status.SENT}**: the CSMS sends it for a typed command (the REST API's remote operations).",
        f"- **{Status.NOT_IMPLEMENTED}**: a station's message of the version that Kilowatt has no handler for yet;"
        " the station gets CALLERROR NotImplemented (its frame is still validated first).",
        f"- **{Status.NOT_SENT}**: a CSMS message of the version that no typed command encodes to yet.",
        "",
        "A message sent the wrong way (a CSMS action by a station) is answered NotSupported, an action the version"
        " does not have NotImplemented. DataTransfer goes both ways and is counted once under each of its statuses.",
        "",
        "| version | actions | " + " | ".join(statuses) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in statuses) + " |",
    ]
    for version in covered:
        counts = " | ".join(str(version.count(status)) for status in statuses)
        lines.append(f"| {version.title} (`{version.subprotocol}`) | {len(version.rows)} | {counts} |")
    for version in covered:
        lines += [
            "",
            f"## {version.title} (`{version.subprotocol}`)",
            "",
            "| action | direction | status |",
            "| --- | --- | --- |",
        ]
        for row in version.rows:
            direction = f"{row.direction} (SEND)" if row.send else str(row.direction)
            lines.append(f"| {row.action} | {direction} | {'; '.join(row.statuses)} |")
    return "\n".join(lines) + "\n"


def generate() -> str:
    """The text of docs/ocpp-coverage.md as the code stands."""
    return render(versions())


def main() -> int:
    sys.stdout.write(generate())
    return 0


if __name__ == "__main__":
    sys.exit(main())
