"""JSON log lines on stdout, with OCPP context bound per connection and per message.

``station_id`` and ``message_id`` are bound with :func:`structlog.contextvars.bind_contextvars` in
the gateway, so every line logged while handling a message carries them without passing loggers
around.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import orjson
import structlog


def _dumps(obj: object, default: object = None) -> str:
    return orjson.dumps(obj, default=default).decode()


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """Route both structlog and stdlib logging (uvicorn, websockets) to JSON lines on stdout.

    ``stream`` sends them elsewhere: ``kilowatt simulate`` and ``kilowatt demo`` log to stderr so
    that what they print for a person (or a pipe) on stdout stays clean.
    """
    stream = stream if stream is not None else sys.stdout
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, structlog.processors.JSONRenderer(_dumps)],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(_dumps),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    # websockets logs every failed handshake at INFO with a traceback; the gateway logs its own line.
    logging.getLogger("websockets").setLevel(max(numeric, logging.WARNING))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A logger named after its module."""
    return structlog.get_logger(name)
