"""OpenTelemetry tracing for the daiban services: providers, instrumentation, NATS propagation.

Several services (and several nodes of one service) may live in one process — the unit and
integration tests do exactly that — while OpenTelemetry lets the *global* tracer provider be set
only once per process. So nothing here touches the global provider: every service gets its own
`TracerProvider`, which callers pass explicitly to the instrumentors and to `tracer_for`.

One trace follows a change from the HTTP request through the outbox row (which stores the
W3C `traceparent` of the request's span), the relay's publish (a PRODUCER span whose parent is
that stored traceparent) and every consumer that applies the event (a CONSUMER span whose parent
comes from the message).
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import (
    INVALID_SPAN_CONTEXT,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    TraceFlags,
    Tracer,
    get_current_span,
    set_span_in_context,
)
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from daiban_common.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = [
    "PROBE_PATHS",
    "consumer_span",
    "context_from_traceparent",
    "current_traceparent",
    "extract_context",
    "inject_headers",
    "instrument_app",
    "instrument_engine",
    "producer_headers",
    "setup_tracing",
    "shutdown_tracing",
    "trace_id_of",
    "tracer_for",
]

_log = logging.getLogger(__name__)

TRACER_NAME = "daiban"
TRACEPARENT = "traceparent"

# Probes and scrapes arrive every few seconds; tracing them would drown the real requests.
PROBE_PATHS: tuple[str, ...] = ("/healthz", "/readyz", "/metrics")

# Explicit W3C propagator: the wire format between our services (and township systems that
# publish to us) must not depend on OTEL_PROPAGATORS of whichever process happens to run.
_PROPAGATOR = TraceContextTextMapPropagator()

_TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")

_lock = threading.Lock()
_instrumented_engines: weakref.WeakSet[Any] = weakref.WeakSet()


def _version() -> str:
    try:
        return importlib.metadata.version("daiban-common")
    except importlib.metadata.PackageNotFoundError:
        return "0"


def _otlp_exporter(endpoint: str) -> SpanProcessor | None:
    """A batch processor exporting over OTLP/HTTP, or None when the exporter is not installed."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        # The exporter is an optional extra; a node without it still gets trace ids in its logs
        # and propagates traceparent, it just ships no spans anywhere.
        _log.warning(
            "DAIBAN_OTLP_ENDPOINT is set but opentelemetry-exporter-otlp-proto-http is not "
            "installed; spans will not be exported"
        )
        return None
    # The exporter takes the full signal URL when given one explicitly; accept the collector's
    # base URL too, which is what operators usually write.
    url = endpoint.rstrip("/")
    if not url.endswith("/v1/traces"):
        url += "/v1/traces"
    return BatchSpanProcessor(OTLPSpanExporter(endpoint=url))


class _ServiceTracerProvider(TracerProvider):
    """A provider that forgets itself in the registry of `setup_tracing` when shut down.

    Service runtimes call provider.shutdown() when they stop; the next runtime of the same
    service and node (the next test, a restart in-process) must get a live provider, not the
    closed one whose processors silently drop every span.
    """

    def __init__(self, key: tuple[str, str, str], resource: Resource) -> None:
        super().__init__(resource=resource)
        self.key = key
        self.attached: list[SpanProcessor] = []
        # Whether any span of this provider can reach anyone (an exporter, a test's processor):
        # until one is added, requests take the lean path of `instrument_app`.
        self.exports = False

    def get_tracer(self, *args: Any, **kwargs: Any) -> Tracer:
        tracer = super().get_tracer(*args, **kwargs)
        _provider_of[tracer] = self
        return tracer

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        super().add_span_processor(span_processor)
        self.exports = True

    def shutdown(self) -> None:
        with _lock:
            if _providers.get(self.key) is self:
                del _providers[self.key]
        super().shutdown()


_providers: dict[tuple[str, str, str], _ServiceTracerProvider] = {}
# The provider of each tracer a service provider handed out, so that `consumer_span` can tell
# whether anyone receives its spans.
_provider_of: weakref.WeakKeyDictionary[Tracer, _ServiceTracerProvider] = weakref.WeakKeyDictionary()


def setup_tracing(
    service: str,
    settings: Settings,
    *,
    extra_processors: Sequence[SpanProcessor] = (),
) -> TracerProvider:
    """The tracer provider of one service on one node, created on first use.

    Idempotent: a second call for the same service, node and org returns the same provider and
    only attaches those of `extra_processors` that are not attached yet (so a test can add its
    in-memory exporter to a provider an app factory already created).
    """
    key = (service, settings.node_name, settings.org)
    with _lock:
        provider = _providers.get(key)
        if provider is None:
            attributes: dict[str, AttributeValue] = {
                "service.name": f"daiban-{service}",
                "service.namespace": "daiban",
                "service.version": _version(),
                "deployment.environment.name": str(settings.env),
                "daiban.node": settings.node_name,
                "daiban.org": settings.org,
            }
            provider = _ServiceTracerProvider(key, Resource.create(attributes))
            if settings.otlp_endpoint:
                exporter = _otlp_exporter(settings.otlp_endpoint)
                if exporter is not None:
                    provider.add_span_processor(exporter)
            _providers[key] = provider
        for processor in extra_processors:
            if not any(processor is seen for seen in provider.attached):
                provider.add_span_processor(processor)
                provider.attached.append(processor)
    return provider


def shutdown_tracing(provider: TracerProvider) -> None:
    """Flush and close a provider (app shutdown); a later `setup_tracing` creates a fresh one.

    Same as provider.shutdown(); kept as a function for symmetry with `setup_tracing`.
    """
    provider.shutdown()


def tracer_for(provider: TracerProvider) -> Tracer:
    """The tracer a service uses for its own spans (relay, consumers, domain steps)."""
    return provider.get_tracer(TRACER_NAME, _version())


def instrument_app(app: FastAPI, provider: TracerProvider) -> None:
    """Trace every HTTP request of `app` with `provider`, except probes and scrapes.

    While nothing receives the provider's spans (no exporter, no test processor), a request does
    not go through OpenTelemetry's ASGI middleware, which cost ~1,000 Python calls a request
    (every header decoded, a dozen attributes, metrics hooks) for a span nobody sees. It gets
    the lean path of `_TracingSwitch` instead: the caller's `traceparent` extracted and a span
    started in its trace, so the outbox row still continues the caller's trace and log lines
    still carry trace ids. A processor attached later switches the next request to the full one.
    """
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    if getattr(app, "_is_instrumented_by_opentelemetry", False):
        return
    # ExcludeList searches the regexes in "scheme://host/path" (no query string); anchor them so
    # that only the top-level probe paths are skipped, not e.g. /v1/reports/metrics.
    excluded = ",".join(rf"^[a-z]+://[^/]+{re.escape(path)}$" for path in PROBE_PATHS)
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        # HTTP metrics come from prometheus_client (daiban_common.metrics); a global OTel meter
        # provider configured later must not start double-counting them.
        meter_provider=NoOpMeterProvider(),
        excluded_urls=excluded,
        # One span per request is enough; the ASGI send/receive sub-spans only add noise.
        exclude_spans=["receive", "send"],
    )
    if not isinstance(provider, _ServiceTracerProvider):
        return  # a provider of someone else's: no telling whether it exports, so always in full
    instrumented_build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        # The instrumentor builds ServerErrorMiddleware(OpenTelemetryMiddleware(stack)); the
        # switch goes between the two, so that either path runs the same stack inside.
        outer = instrumented_build()
        traced: Any = getattr(outer, "app", None)
        inner: Any = getattr(traced, "app", None)
        if type(traced).__name__ != "OpenTelemetryMiddleware" or inner is None:
            _log.warning("unexpected middleware stack %r: every request is traced in full", traced)
            return outer
        outer.app = _TracingSwitch(traced, inner, provider)  # type: ignore[attr-defined]
        return outer

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


class _TracingSwitch:
    """Each request through OpenTelemetry's middleware (`app`) while `provider` exports spans,
    else through `lean`: a SERVER span in the caller's trace, no attributes, nothing else.

    `app` is the full middleware so that whoever walks the stack by `.app` (FastAPI's own
    telemetry looks for OpenTelemetry's middleware that way) still finds it.
    """

    def __init__(self, app: ASGIApp, lean: ASGIApp, provider: _ServiceTracerProvider) -> None:
        from opentelemetry.instrumentation.asgi import asgi_getter

        self.app = app
        self.lean = lean
        self.provider = provider
        self.getter = asgi_getter
        self.tracer = provider.get_tracer("opentelemetry.instrumentation.asgi")
        # The headers the process's propagators read (traceparent, tracestate, baggage by
        # default), as bytes: only those are decoded, and the same propagators as the full path.
        self.fields = frozenset(
            field.lower().encode("latin-1") for field in propagate.get_global_textmap().fields
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.provider.exports or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in PROBE_PATHS:  # as excluded from the full path: no span at all
            await self.lean(scope, receive, send)
            return
        # Only the propagators' headers, read by the full path's own getter: the same context
        # as there, without decoding every other header three times.
        carrier = [header for header in scope["headers"] if header[0] in self.fields]
        parent = propagate.extract({"headers": carrier}, getter=self.getter) if carrier else None
        span = self.tracer.start_span(scope["method"], context=parent, kind=SpanKind.SERVER)
        token = otel_context.attach(set_span_in_context(span, parent))
        try:
            await self.lean(scope, receive, send)
        finally:
            otel_context.detach(token)
            span.end()


def instrument_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """Trace the statements of `engine` with `provider`.

    SQLAlchemyInstrumentor().instrument() is not used on purpose: it is a process-wide singleton
    (a second call, for a second service, is ignored), it patches create_engine/Engine.connect
    globally with the first caller's tracer, and it refuses to run at all when the installed
    SQLAlchemy is newer than the instrumentation's declared range (2.1 vs "< 2.1.0" today). The
    per-engine EngineTracer it would create is what we attach directly.
    """
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.instrumentation.sqlalchemy.version import __version__ as sqla_instr_version

    sync_engine = engine.sync_engine
    with _lock:
        if sync_engine in _instrumented_engines:
            return
        _instrumented_engines.add(sync_engine)
    tracer = provider.get_tracer("opentelemetry.instrumentation.sqlalchemy", sqla_instr_version)
    # EngineTracer also counts pool usage; Prometheus is our metrics path, so give it a no-op.
    connections_usage = (
        NoOpMeterProvider()
        .get_meter("opentelemetry.instrumentation.sqlalchemy")
        .create_up_down_counter("db.client.connections.usage")
    )
    # EngineTracer ships without annotations.
    EngineTracer(tracer, sync_engine, connections_usage)  # type: ignore[no-untyped-call]


def _lowered(carrier: Mapping[str, str]) -> dict[str, str]:
    # NATS headers are case-sensitive, and publishers outside this code base (township systems)
    # do not all write `traceparent` in lower case.
    return {key.lower(): value for key, value in carrier.items()}


def inject_headers(headers: dict[str, str], context: Context | None = None) -> dict[str, str]:
    """Add `traceparent` (and `tracestate`) of `context`, or of the current span, to `headers`.

    Returns the same dict for chaining; adds nothing when there is no valid span.
    """
    _PROPAGATOR.inject(headers, context=context)
    return headers


def extract_context(headers: Mapping[str, str] | None) -> Context:
    """The context carried by message headers; an empty context (a new root) when there is none.

    Deliberately not based on the current context: a consumer loop must not parent the spans of
    unrelated messages to whatever span happens to be active around it.
    """
    if not headers:
        return Context()
    return _PROPAGATOR.extract(_lowered(headers))


def current_traceparent() -> str | None:
    """The `traceparent` of the current span, to store in an outbox row; None without a span."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT)


def context_from_traceparent(traceparent: str | None) -> Context:
    """The context a stored `traceparent` stands for; an empty context when missing or invalid."""
    if not traceparent:
        return Context()
    return _PROPAGATOR.extract({TRACEPARENT: traceparent})


def trace_id_of(traceparent: str) -> str:
    """The 32-hex-digit trace id of a `traceparent`; ValueError when it is not one."""
    match = _TRACEPARENT_RE.match(traceparent.strip().lower())
    if match is None or match.group(2) == "0" * 32:
        raise ValueError(f"not a W3C traceparent: {traceparent!r}")
    return match.group(2)


@contextmanager
def _messaging_span(
    tracer: Tracer,
    name: str,
    traceparent: str | None,
    kind: SpanKind,
    operation: str,
    attributes: Mapping[str, AttributeValue] | None,
) -> Iterator[Span]:
    merged: dict[str, AttributeValue] = {
        "messaging.system": "nats",
        "messaging.operation.type": operation,
    }
    if attributes:
        merged.update(attributes)
    with tracer.start_as_current_span(
        name,
        context=context_from_traceparent(traceparent),
        kind=kind,
        attributes=merged,
    ) as span:
        yield span


@contextmanager
def consumer_span(
    tracer: Tracer,
    name: str,
    traceparent: str | None,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Iterator[Span]:
    """A CONSUMER span for applying one event, child of the span that published it.

    Pass the message's `traceparent` header (the relay's PRODUCER span) or, when a message came
    without headers, the envelope's `traceparent` attribute. An exception escaping the block is
    recorded on the span and marks it as an error.

    While nothing receives the tracer's spans (a service provider without exporter or test
    processor), the span is not recorded: an SDK span cost ~200 Python calls per event (its
    attributes, events, limits, the processors' hooks) for nobody. The current span is then a
    non-recording one in the same trace, with the ids and flags the SDK would have given it, so
    events the handler emits still carry a traceparent in the publisher's trace and log lines
    still carry trace ids.
    """
    if _silent(tracer):
        with _unrecorded_span(tracer, name, traceparent) as span:
            yield span
        return
    with _messaging_span(tracer, name, traceparent, SpanKind.CONSUMER, "process", attributes) as span:
        yield span


class _UnrecordedSpan(NonRecordingSpan):
    """The span `_unrecorded` makes, its ids and flags worked out when something first asks for
    them (an event emitted, a log line's trace ids, a child span): most events applied emit and log
    nothing, and working them out (the traceparent parsed, the sampler, two ids) cost ~60 Python
    calls an event. The ids are random and the sampler's inputs are fixed here, so when they are
    worked out changes nothing."""

    def __init__(self, tracer: Tracer, name: str, traceparent: str | None) -> None:
        super().__init__(INVALID_SPAN_CONTEXT)
        self._made: SpanContext | None = None
        self._of = (tracer, name, traceparent)

    def get_span_context(self) -> SpanContext:
        if self._made is None:
            tracer, name, traceparent = self._of
            self._made = _unrecorded(tracer, name, traceparent, SpanKind.CONSUMER)[0].get_span_context()
        return self._made


@contextmanager
def _unrecorded_span(tracer: Tracer, name: str, traceparent: str | None) -> Iterator[Span]:
    span = _UnrecordedSpan(tracer, name, traceparent)
    # The parent's context holds nothing but the parent span (context_from_traceparent), which
    # the child replaces: an empty context with the child is the same one.
    token = otel_context.attach(set_span_in_context(span, Context()))
    try:
        yield span
    finally:
        otel_context.detach(token)


def _silent(tracer: Tracer) -> bool:
    """Whether nobody receives `tracer`'s spans (a service provider with nothing attached)."""
    provider = _provider_of.get(tracer)
    return provider is not None and not provider.exports


def _unrecorded(tracer: Tracer, name: str, traceparent: str | None, kind: SpanKind) -> tuple[Span, Context]:
    """The span `tracer.start_span` would make, child of `traceparent`, without recording it:
    the same trace id, a new span id, the flags and trace state the sampler decides (as in the
    SDK's Tracer.start_span); and the parent's context."""
    sdk: Any = tracer  # an SDK tracer: its sampler and id generator are public attributes
    parent = context_from_traceparent(traceparent)
    parent_span = get_current_span(parent).get_span_context()
    if parent_span.is_valid:
        trace_id = parent_span.trace_id
        random_trace_id = parent_span.trace_flags.random_trace_id
    else:
        trace_id = sdk.id_generator.generate_trace_id()
        random_trace_id = sdk.id_generator.is_trace_id_random()
    sampled = sdk.sampler.should_sample(parent, trace_id, name, kind)
    flags = TraceFlags.SAMPLED if sampled.decision.is_sampled() else TraceFlags.DEFAULT
    if random_trace_id:
        flags |= TraceFlags.RANDOM_TRACE_ID
    span = NonRecordingSpan(
        SpanContext(
            trace_id,
            sdk.id_generator.generate_span_id(),
            is_remote=False,
            trace_flags=TraceFlags(flags),
            trace_state=sampled.trace_state,
        )
    )
    return span, parent


def producer_headers(
    tracer: Tracer,
    name: str,
    traceparent: str | None,
    headers: dict[str, str],
    attributes: Mapping[str, AttributeValue] | None = None,
) -> dict[str, str]:
    """The headers the relay publishes an outbox row with: a PRODUCER span, child of the row's
    stored `traceparent` (the request that made the change), whose context goes into `headers`,
    so consumers become its children.

    The relay publishes thousands of rows a second; attaching and detaching a context per row
    was a third of its tracing cost and nothing runs inside the span. While nothing receives the
    tracer's spans, the span is not recorded (as `consumer_span`'s): the headers are the same.
    """
    if _silent(tracer):
        span, _ = _unrecorded(tracer, name, traceparent, SpanKind.PRODUCER)
        return inject_headers(headers, set_span_in_context(span))
    merged: dict[str, AttributeValue] = {"messaging.system": "nats", "messaging.operation.type": "publish"}
    if attributes:
        merged.update(attributes)
    span = tracer.start_span(
        name, context=context_from_traceparent(traceparent), kind=SpanKind.PRODUCER, attributes=merged
    )
    try:
        return inject_headers(headers, set_span_in_context(span))
    finally:
        span.end()
