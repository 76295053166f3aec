"""``python -m kilowatt.probe``: the container health check, standard library only.

One image runs every role, but only ``all`` and ``api`` have an HTTP port: a ``--role gateway``
process listens on the OCPP port alone (``worker``, once it exists, on neither). So the check asks
``GET /health`` (``--ready``: ``/health/ready``) on ``KILOWATT_HTTP_PORT``, and when nothing listens
there, falls back to a TCP connect on ``KILOWATT_OCPP_PORT``: a gateway that accepts connections is
alive. A role with no port at all (the worker) has nothing to probe: deploy/compose.yaml disables
the check for it, and its container ends (and is restarted) when the process does.

Exit 0 healthy, 1 not, with one line on stderr saying why (Docker keeps it in ``docker inspect``).
Imports nothing heavy: a check every few seconds must not cost a second of CPU loading SQLAlchemy.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

DEFAULT_TIMEOUT_S = 4.0


def _port(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError:
        raise SystemExit(f"probe: {name}={value!r} is not a port number") from None


def _host() -> str:
    """Where to reach this process: loopback, unless it listens on one specific address."""
    host = os.environ.get("KILOWATT_HOST", "0.0.0.0")
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def check_http(host: str, port: int, path: str, timeout_s: float) -> tuple[bool, str] | None:
    """``(healthy, why)``; None when nothing listens on the port (not an HTTP role)."""
    netloc = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        with urllib.request.urlopen(f"http://{netloc}{path}", timeout=timeout_s) as response:
            return True, f"{path}: {response.status}"
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read() or b"{}")
        except ValueError:
            body = {}
        return False, f"{path}: HTTP {exc.code} {json.dumps(body)[:300]}"
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return None
        return False, f"{path}: {exc.reason}"
    except OSError as exc:  # a timeout reading the answer
        return False, f"{path}: {exc}"


def check_tcp(host: str, port: int, timeout_s: float) -> tuple[bool, str]:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True, f"OCPP port {port} accepts connections"
    except OSError as exc:
        return False, f"OCPP port {port}: {exc}"


def probe(ready: bool = False, timeout_s: float = DEFAULT_TIMEOUT_S) -> tuple[bool, str]:
    host = _host()
    http_port = _port("KILOWATT_HTTP_PORT", 8000)
    answer = check_http(host, http_port, "/health/ready" if ready else "/health", timeout_s)
    if answer is not None:
        return answer
    ok, why = check_tcp(host, _port("KILOWATT_OCPP_PORT", 9000), timeout_s)
    return ok, f"nothing listens on HTTP port {http_port}; {why}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kilowatt.probe", description=__doc__.splitlines()[0])
    parser.add_argument("--ready", action="store_true", help="ask /health/ready instead of /health")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per attempt")
    args = parser.parse_args(argv)
    ok, why = probe(args.ready, args.timeout)
    print(f"{'healthy' if ok else 'unhealthy'}: {why}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
