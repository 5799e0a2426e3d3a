"""Tracing: providers per service, W3C propagation through NATS headers, HTTP server spans, logs."""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, get_current_span
from sqlalchemy.ext.asyncio import create_async_engine

from daiban_common.jsonlog import configure_logging, request_id_var
from daiban_common.settings import Settings
from daiban_common.telemetry import (
    consumer_span,
    context_from_traceparent,
    current_traceparent,
    extract_context,
    inject_headers,
    instrument_app,
    instrument_engine,
    producer_headers,
    setup_tracing,
    trace_id_of,
    tracer_for,
)

ORG = "370285000000"


def _settings() -> Settings:
    # A node name of its own per test: setup_tracing keeps one provider per (service, node, org).
    return Settings(org=ORG, node=f"t{uuid.uuid4().hex[:8]}", otlp_endpoint="")


def _traced(service: str = "intake") -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = setup_tracing(service, _settings(), extra_processors=[SimpleSpanProcessor(exporter)])
    return provider, exporter


def _hex_trace_id(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def test_inject_extract_roundtrip_keeps_trace_id() -> None:
    provider, _ = _traced()
    with tracer_for(provider).start_as_current_span("request") as span:
        headers = inject_headers({"Nats-Msg-Id": "e1"})
        expected = format(span.get_span_context().trace_id, "032x")

    assert headers["Nats-Msg-Id"] == "e1"
    assert trace_id_of(headers["traceparent"]) == expected
    extracted = get_current_span(extract_context(headers)).get_span_context()
    assert extracted.is_remote
    assert format(extracted.trace_id, "032x") == expected
    assert extracted.span_id == span.get_span_context().span_id


def test_extract_context_accepts_any_header_case_and_none() -> None:
    traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    context = extract_context({"TraceParent": traceparent})
    assert format(get_current_span(context).get_span_context().trace_id, "032x") == (
        "0af7651916cd43dd8448eb211c80319c"
    )
    assert not get_current_span(extract_context(None)).get_span_context().is_valid
    assert not get_current_span(extract_context({})).get_span_context().is_valid


def test_current_traceparent_is_none_without_span() -> None:
    assert current_traceparent() is None


def test_inject_without_span_adds_nothing() -> None:
    assert inject_headers({}) == {}


def test_consumer_span_continues_the_stored_trace() -> None:
    provider, exporter = _traced()
    tracer = tracer_for(provider)
    with tracer.start_as_current_span("POST /v1/applications") as request_span:
        stored = current_traceparent()
    assert stored is not None
    request_context = request_span.get_span_context()

    with consumer_span(tracer, "apply daiban.case.accepted.v1", stored, {"messaging.consumer": "routing"}):
        pass

    (consumer,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert _hex_trace_id(consumer) == trace_id_of(stored) == format(request_context.trace_id, "032x")
    assert consumer.parent is not None
    assert consumer.parent.span_id == request_context.span_id
    assert consumer.attributes is not None
    assert consumer.attributes["messaging.system"] == "nats"
    assert consumer.attributes["messaging.consumer"] == "routing"


def test_consumer_span_ignores_the_surrounding_span_without_traceparent() -> None:
    provider, exporter = _traced()
    tracer = tracer_for(provider)
    with tracer.start_as_current_span("consumer loop"), consumer_span(tracer, "apply", None):
        pass
    consumer = next(s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER)
    assert consumer.parent is None


def test_one_trace_from_request_through_relay_to_consumer() -> None:
    provider, exporter = _traced()
    tracer = tracer_for(provider)
    with tracer.start_as_current_span("POST /v1/applications", kind=SpanKind.SERVER):
        stored = current_traceparent()

    # The relay runs later, in another task, with no current span: only the stored row links it.
    assert current_traceparent() is None
    headers = producer_headers(tracer, "publish daiban.case.accepted.v1", stored, {"Nats-Msg-Id": "e1"})
    assert headers["Nats-Msg-Id"] == "e1"
    assert current_traceparent() is None  # the relay's span was never the current one
    with consumer_span(tracer, "apply daiban.case.accepted.v1", headers["traceparent"]):
        pass

    spans = {s.kind: s for s in exporter.get_finished_spans()}
    server, producer, consumer = spans[SpanKind.SERVER], spans[SpanKind.PRODUCER], spans[SpanKind.CONSUMER]
    assert _hex_trace_id(server) == _hex_trace_id(producer) == _hex_trace_id(consumer)
    assert producer.parent is not None and server.context is not None
    assert producer.parent.span_id == server.context.span_id
    assert consumer.parent is not None and producer.context is not None
    assert consumer.parent.span_id == producer.context.span_id


def test_an_unrecorded_consumer_span_is_worked_out_only_when_asked_for_and_then_kept() -> None:
    # Most events applied emit nothing and log nothing: the sampler and the ids are left alone
    # until something reads the span's context, and then it is the same for the whole block.
    provider = setup_tracing("routing", _settings())
    tracer = tracer_for(provider)
    sdk: Any = tracer
    asked: list[str] = []
    original = sdk.sampler
    should_sample = original.should_sample

    def counting(*args: Any, **kwargs: Any) -> Any:
        asked.append(args[2])
        return should_sample(*args, **kwargs)

    sdk.sampler = type("Counting", (), {"should_sample": staticmethod(counting)})()
    published = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    try:
        with consumer_span(tracer, "apply quiet", published):
            pass
        assert asked == []
        with consumer_span(tracer, "apply loud", published):
            first, second = current_traceparent(), current_traceparent()
        assert asked == ["apply loud"]
        assert first is not None and first == second
        assert trace_id_of(first) == "4bf92f3577b34da6a3ce929d0e0e4736"
    finally:
        sdk.sampler = original
        provider.shutdown()


def test_without_an_exporter_consumer_spans_still_continue_the_publishers_trace() -> None:
    # Nothing receives the provider's spans: the consumer span is not recorded, but what the
    # handler emits (current_traceparent, as UnitOfWork.emit reads it) must be the same as with
    # a recorded one: the publisher's trace, a span id of its own, the sampling decision kept.
    settings = _settings()
    provider = setup_tracing("routing", settings)
    tracer = tracer_for(provider)
    published = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"

    def emitted(traceparent: str | None) -> str | None:
        with consumer_span(tracer, "apply daiban.case.accepted.v1", traceparent, {"messaging.consumer": "r"}):
            return current_traceparent()

    continued, kept_unsampled = emitted(published), emitted(unsampled)
    fresh, garbage = emitted(None), emitted("00-zz-01")
    assert continued is not None and kept_unsampled is not None and fresh is not None and garbage is not None
    assert trace_id_of(continued) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert continued.split("-")[2] != "00f067aa0ba902b7"  # a span of its own, child of the publisher's
    assert continued.endswith("-01")
    assert trace_id_of(kept_unsampled) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert kept_unsampled.endswith("-00")
    assert trace_id_of(fresh) != "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_id_of(garbage) != trace_id_of(fresh)
    assert current_traceparent() is None  # nothing left current after the block

    # A processor attached later gets the next event's full span, in the same trace.
    exporter = InMemorySpanExporter()
    setup_tracing("routing", settings, extra_processors=[SimpleSpanProcessor(exporter)])
    again = emitted(published)
    (consumer,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.CONSUMER]
    assert _hex_trace_id(consumer) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert consumer.attributes is not None and consumer.attributes["messaging.consumer"] == "r"
    assert again is not None and again.split("-")[2] == format(consumer.context.span_id, "016x")
    provider.shutdown()


def test_without_an_exporter_the_relay_still_continues_the_requests_trace() -> None:
    settings = _settings()
    provider = setup_tracing("intake", settings)
    tracer = tracer_for(provider)
    stored = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    headers = producer_headers(tracer, "publish daiban.case.accepted.v1", stored, {"Nats-Msg-Id": "e1"})
    assert headers["Nats-Msg-Id"] == "e1"
    assert trace_id_of(headers["traceparent"]) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert headers["traceparent"].split("-")[2] != "00f067aa0ba902b7"
    assert headers["traceparent"].endswith("-01")
    unsampled = producer_headers(tracer, "publish", stored[:-2] + "00", {})
    assert unsampled["traceparent"].endswith("-00")
    assert trace_id_of(producer_headers(tracer, "publish", None, {})["traceparent"]) != trace_id_of(stored)
    assert current_traceparent() is None
    provider.shutdown()


def test_exception_in_consumer_span_marks_it_failed() -> None:
    provider, exporter = _traced()
    with pytest.raises(RuntimeError), consumer_span(tracer_for(provider), "apply", None):
        raise RuntimeError("boom")
    (span,) = exporter.get_finished_spans()
    assert not span.status.is_ok
    assert [event.name for event in span.events] == ["exception"]


def test_context_from_traceparent_tolerates_missing_and_garbage() -> None:
    for value in (None, "", "garbage", "00-00000000000000000000000000000000-b7ad6b7169203331-01"):
        assert not get_current_span(context_from_traceparent(value)).get_span_context().is_valid


def test_trace_id_of_rejects_non_traceparents() -> None:
    assert (
        trace_id_of("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        == "0af7651916cd43dd8448eb211c80319c"
    )
    for value in (
        "",
        "00-xyz-b7ad6b7169203331-01",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
    ):
        with pytest.raises(ValueError):
            trace_id_of(value)


def test_two_services_in_one_process_do_not_interfere() -> None:
    intake, intake_spans = _traced("intake")
    routing, routing_spans = _traced("routing")
    assert intake is not routing

    with tracer_for(intake).start_as_current_span("intake work"):
        pass
    with tracer_for(routing).start_as_current_span("routing work"):
        pass

    assert [s.name for s in intake_spans.get_finished_spans()] == ["intake work"]
    assert [s.name for s in routing_spans.get_finished_spans()] == ["routing work"]
    assert intake.resource.attributes["service.name"] == "daiban-intake"
    assert routing.resource.attributes["service.name"] == "daiban-routing"
    assert intake.resource.attributes["daiban.org"] == ORG


def test_setup_tracing_is_idempotent_and_survives_shutdown() -> None:
    settings = _settings()
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    first = setup_tracing("audit", settings, extra_processors=[processor])
    again = setup_tracing("audit", settings, extra_processors=[processor])
    assert again is first
    assert first.resource.attributes["daiban.node"] == settings.node_name

    with tracer_for(first).start_as_current_span("once"):
        pass
    # The processor was attached once, so the span was exported once.
    assert len(exporter.get_finished_spans()) == 1

    first.shutdown()
    fresh_exporter = InMemorySpanExporter()
    fresh = setup_tracing("audit", settings, extra_processors=[SimpleSpanProcessor(fresh_exporter)])
    assert fresh is not first
    with tracer_for(fresh).start_as_current_span("after restart"):
        pass
    assert [s.name for s in fresh_exporter.get_finished_spans()] == ["after restart"]


def test_setup_tracing_without_exporter_package_still_traces(caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(org=ORG, node=f"t{uuid.uuid4().hex[:8]}", otlp_endpoint="http://127.0.0.1:4318")
    provider = setup_tracing("catalogue", settings)
    # Trace ids still exist for logs and propagation, whether or not the exporter is installed.
    with tracer_for(provider).start_as_current_span("work") as span:
        assert span.get_span_context().is_valid
    provider.shutdown()
    try:
        import opentelemetry.exporter.otlp.proto.http  # noqa: F401
    except ImportError:
        assert "opentelemetry-exporter-otlp-proto-http is not installed" in caplog.text


def _instrumented_app(provider: TracerProvider | None = None) -> tuple[FastAPI, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    if provider is None:
        provider, exporter = _traced()
    app = FastAPI()

    @app.get("/v1/cases/{number}")
    async def case(number: str) -> dict[str, str | None]:
        return {"number": number, "traceparent": current_traceparent()}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    instrument_app(app, provider)
    instrument_app(app, provider)  # idempotent: no second middleware, no warning
    return app, exporter


async def test_http_request_with_traceparent_produces_server_span_in_that_trace() -> None:
    app, exporter = _instrumented_app()
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/v1/cases/A123", headers={"traceparent": incoming})
    assert response.status_code == 200

    servers = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert len(servers) == 1
    (server,) = servers
    assert _hex_trace_id(server) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert server.parent is not None and server.parent.span_id == 0x00F067AA0BA902B7
    assert server.name == "GET /v1/cases/{number}"
    # What the handler would store in its outbox row belongs to the same trace.
    assert trace_id_of(response.json()["traceparent"]) == "4bf92f3577b34da6a3ce929d0e0e4736"
    # No ASGI send/receive sub-spans.
    assert len(exporter.get_finished_spans()) == 1


async def test_probes_are_not_traced() -> None:
    app, exporter = _instrumented_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/healthz")).status_code == 200
    assert exporter.get_finished_spans() == ()


async def test_without_an_exporter_requests_still_continue_the_callers_trace() -> None:
    # A service's provider with nothing attached: requests take the lean path, which must hand
    # the handler (and so the outbox row) the same trace as the full one would.
    settings = _settings()
    provider = setup_tracing("intake", settings)
    app, _ = _instrumented_app(provider)
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    unsampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        continued = (await client.get("/v1/cases/A1", headers={"traceparent": incoming})).json()
        assert type(app.middleware_stack.app).__name__ == "_TracingSwitch"  # type: ignore[union-attr]
        kept_unsampled = (await client.get("/v1/cases/A1", headers={"traceparent": unsampled})).json()
        fresh = (await client.get("/v1/cases/A1")).json()
        garbage = (await client.get("/v1/cases/A1", headers={"traceparent": "00-zz-01"})).json()
        probe = await client.get("/healthz")

        assert trace_id_of(continued["traceparent"]) == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert continued["traceparent"] != incoming  # a span of its own, child of the caller's
        assert continued["traceparent"].endswith("-01")
        assert trace_id_of(kept_unsampled["traceparent"]) == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert kept_unsampled["traceparent"].endswith("-00")  # the caller's sampling decision holds
        assert trace_id_of(fresh["traceparent"]) != "4bf92f3577b34da6a3ce929d0e0e4736"
        assert trace_id_of(garbage["traceparent"]) != "4bf92f3577b34da6a3ce929d0e0e4736"
        assert probe.status_code == 200

        # A processor attached later (a test's, an exporter) gets the next request's full span.
        exporter = InMemorySpanExporter()
        setup_tracing("intake", settings, extra_processors=[SimpleSpanProcessor(exporter)])
        response = await client.get("/v1/cases/A2", headers={"traceparent": incoming})
    (server,) = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert server.name == "GET /v1/cases/{number}"
    assert _hex_trace_id(server) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_id_of(response.json()["traceparent"]) == "4bf92f3577b34da6a3ce929d0e0e4736"
    provider.shutdown()


async def test_instrument_engine_attaches_listeners_once() -> None:
    provider, _ = _traced()
    # No connection is made: creating an engine only parses the URL.
    engine = create_async_engine("postgresql+asyncpg://u:p@127.0.0.1:1/none")
    try:
        before = len(engine.sync_engine.dispatch.before_cursor_execute)
        instrument_engine(engine, provider)
        instrument_engine(engine, provider)
        assert len(engine.sync_engine.dispatch.before_cursor_execute) == before + 1
    finally:
        await engine.dispose()


# --- JSON logs ---------------------------------------------------------------------------------


@pytest.fixture
def stderr_lines(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    # capsys swaps sys.stderr after configuration time: the handler must follow it.
    root = logging.getLogger()
    saved_level, saved_handlers = root.level, list(root.handlers)
    yield capsys
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
    root.setLevel(saved_level)


def _records(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]


def test_json_log_lines_carry_service_and_trace_ids(stderr_lines: pytest.CaptureFixture[str]) -> None:
    configure_logging("intake", "debug")
    configure_logging("intake", "INFO")  # idempotent: still one handler, one line per record
    provider, _ = _traced()
    log = logging.getLogger("daiban.test")

    log.info("plain 受理", extra={"case_number": "370285-0001"})
    with tracer_for(provider).start_as_current_span("work") as span:
        token = request_id_var.set("req-1")
        try:
            log.warning("inside a span")
        finally:
            request_id_var.reset(token)
    try:
        raise ValueError("bad")
    except ValueError:
        log.exception("failed")
    log.debug("below the level")

    plain, inside, failed = _records(stderr_lines)
    assert plain["message"] == "plain 受理"
    assert plain["service"] == "intake"
    assert plain["level"] == "INFO"
    assert plain["logger"] == "daiban.test"
    assert plain["case_number"] == "370285-0001"
    assert "trace_id" not in plain
    assert str(plain["time"]).endswith("Z")
    context = span.get_span_context()
    assert inside["trace_id"] == format(context.trace_id, "032x")
    assert inside["span_id"] == format(context.span_id, "016x")
    assert inside["request_id"] == "req-1"
    assert "ValueError: bad" in str(failed["exc_info"])


def test_uvicorn_loggers_go_through_json(stderr_lines: pytest.CaptureFixture[str]) -> None:
    access = logging.getLogger("uvicorn.access")
    access.addHandler(logging.StreamHandler(io.StringIO()))
    access.propagate = False
    configure_logging("routing")
    assert access.handlers == []
    assert access.propagate
    access.info(
        '%s - "%s %s HTTP/%s" %d',
        *("127.0.0.1:5000", "GET", "/healthz", "1.1", 200),
        extra={"color_message": "\x1b[1mGET\x1b[0m"},
    )
    (line,) = _records(stderr_lines)
    assert line["logger"] == "uvicorn.access"
    assert line["message"] == '127.0.0.1:5000 - "GET /healthz HTTP/1.1" 200'
    assert "color_message" not in line


def test_configure_logging_rejects_unknown_level() -> None:
    with pytest.raises(ValueError):
        configure_logging("intake", "LOUD")
