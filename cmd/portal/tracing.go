package main

import (
	"cmp"
	"context"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// tracing traces incoming requests and every outbound call, and exports
// the spans over OTLP/HTTP when an endpoint is configured; without one it
// records nothing and costs next to nothing.
type tracing struct {
	provider trace.TracerProvider
	prop     propagation.TextMapPropagator
	shutdown func(context.Context) error
}

// otlpTracesURL is where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as
// it is, or OTEL_EXPORTER_OTLP_ENDPOINT with /v1/traces, as the
// OpenTelemetry specification says; "" when neither is set.
func otlpTracesURL(getenv func(string) string) string {
	if u := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); u != "" {
		return u
	}
	if u := getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); u != "" {
		return strings.TrimSuffix(u, "/") + "/v1/traces"
	}
	return ""
}

// startTracing sets up tracing for the endpoint (none: off). The exporter
// reads its other settings (OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT, the
// certificate files) from the environment itself.
func startTracing(endpoint, serviceName string) (*tracing, error) {
	if endpoint == "" {
		return &tracing{provider: noop.NewTracerProvider(), prop: propagation.TraceContext{},
			shutdown: func(context.Context) error { return nil }}, nil
	}
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(2*time.Second)),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", cmp.Or(serviceName, "restore-portal")))),
	)
	return &tracing{provider: tp, prop: propagation.TraceContext{}, shutdown: tp.Shutdown}, nil
}

// handler traces incoming requests; the route names its span once known.
func (t *tracing) handler(next http.Handler) http.Handler {
	return otelhttp.NewHandler(next, "request", otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(t.prop),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }))
}

// transport traces outbound calls and passes the trace on (traceparent).
func (t *tracing) transport(next http.RoundTripper) http.RoundTripper {
	return otelhttp.NewTransport(next, otelhttp.WithTracerProvider(t.provider), otelhttp.WithPropagators(t.prop))
}
