"""JSON-lines logging with the current trace and request ids.

Named `jsonlog` rather than `logging` so that no tool that puts this directory on sys.path ends
up importing it in place of the standard library module.

Personal data is masked by the callers before it reaches a log call; nothing here inspects
messages.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from opentelemetry import trace

__all__ = ["JsonFormatter", "configure_logging", "request_id_var"]

# Set by the HTTP middleware (daiban_common.metrics) for the duration of a request, so every
# log line written while serving it can be matched with the X-Request-ID the client saw.
request_id_var: ContextVar[str | None] = ContextVar("daiban_request_id", default=None)

UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")

# Attributes every LogRecord has; anything else on a record came from `extra=` and is emitted.
# uvicorn's `color_message` (an ANSI-coloured copy of the message) is noise in JSON.
_RECORD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName", "color_message"}
)
_BASE_FIELDS = frozenset(
    {"time", "level", "logger", "message", "service", "trace_id", "span_id", "request_id"}
    | {"exc_info", "stack_info"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (tracebacks are escaped inside a field)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _rfc3339(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "service": self.service,
        }
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = format(span_context.trace_id, "032x")
            entry["span_id"] = format(span_context.span_id, "016x")
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            # A caller's extra must not silently replace the fields log queries rely on.
            if key not in _RECORD_ATTRS and key not in _BASE_FIELDS and not key.startswith("_"):
                entry[key] = value
        # ensure_ascii=False keeps Chinese messages readable in `journalctl` and log viewers;
        # default=str so that one odd extra value cannot lose the whole line.
        return json.dumps(entry, ensure_ascii=False, default=str)


def _rfc3339(created: float) -> str:
    stamp = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at emit time, like logging.lastResort.

    Binding the stream at configuration time would keep writing to a stream that test runners
    (or a daemonising supervisor) have since replaced or closed.
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        # StreamHandler.setStream assigns here; the stream is always the current sys.stderr.
        pass


def _parse_level(level: str) -> int:
    levels = logging.getLevelNamesMapping()
    try:
        return levels[level.strip().upper()]
    except KeyError:
        raise ValueError(f"unknown log level {level!r}") from None


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send every log record of the process (uvicorn's included) to stderr as JSON lines.

    Idempotent: calling it again updates the service name and level of the one handler it
    installed. Other handlers on the root logger are left alone (pytest's capture relies on its
    own). Run uvicorn with `log_config=None`, or its own dictConfig re-attaches its handlers.
    """
    numeric_level = _parse_level(level)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter(service))
    root.setLevel(numeric_level)
    for name in UVICORN_LOGGERS:
        uvicorn_logger = logging.getLogger(name)
        # Uvicorn gives these loggers their own plain-text handlers and stops propagation;
        # undo both so its lines are JSON too and carry the trace ids.
        for own in list(uvicorn_logger.handlers):
            uvicorn_logger.removeHandler(own)
        uvicorn_logger.propagate = True
        uvicorn_logger.setLevel(logging.NOTSET)
