"""OpenTelemetry set-up and the W3C trace context carried through the outbox and Kafka headers.

A span starts for each HTTP request; the outbox record stores the `traceparent` of the request
that wrote it, the relay copies it into the Kafka headers, and the consumer continues the same
trace, so one trace crosses services. With no OTLP endpoint configured nothing is exported.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, SpanKind

__all__ = ["Span", "SpanKind", "configure_tracing", "continued_span", "current_trace_headers"]

_configured = False


def configure_tracing(service: str, otlp_endpoint: str | None) -> None:
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"wsis-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces"))
        )
    trace.set_tracer_provider(provider)
    _configured = True


tracer = trace.get_tracer("wsis")


def current_trace_headers() -> dict[str, str]:
    """The W3C `traceparent` (and `tracestate`) of the current span, to store with an event."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def continued_span(
    name: str, headers: Mapping[str, str], kind: SpanKind, **attributes: str
) -> Iterator[Span]:
    """A span in the trace whose W3C context the headers carry: the relay's producer span in the
    trace of the request that wrote the outbox record, a consumer's span in the producer's."""
    context = propagate.extract(dict(headers))
    with tracer.start_as_current_span(
        name, context=context, kind=kind, attributes=attributes
    ) as span:
        yield span
