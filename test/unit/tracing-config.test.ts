// Tracing is configured by the standard OTEL_* variables only, and is off unless an endpoint is named.
import { describe, expect, it } from 'vitest';
import { loadTracingConfig } from '../../src/config/tracing-config.js';
import { ConfigError } from '../../src/errors.js';
import { samplerFor } from '../../src/tracing/start-tracing.js';

describe('tracing configuration', () => {
  it('is off when no OTEL variable is set, or when the SDK is disabled or the exporter is none', () => {
    expect(loadTracingConfig({}).enabled).toBe(false);
    const url = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(loadTracingConfig(url).enabled).toBe(true);
    expect(loadTracingConfig({ ...url, OTEL_SDK_DISABLED: 'true' }).enabled).toBe(false);
    expect(loadTracingConfig({ ...url, OTEL_TRACES_EXPORTER: 'none' }).enabled).toBe(false);
    expect(loadTracingConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://x:4318/v1/traces' }).enabled).toBe(
      true,
    );
  });

  it('sends spans to the traces endpoint as given, or to the general endpoint + /v1/traces', () => {
    expect(loadTracingConfig({}).endpoint).toBeUndefined();
    expect(loadTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }).endpoint).toBe(
      'http://c:4318/v1/traces',
    );
    expect(
      loadTracingConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:9999/x',
      }).endpoint,
    ).toBe('http://t:9999/x');
  });

  it('takes the traces protocol over the general one, http/protobuf by default', () => {
    expect(loadTracingConfig({}).protocol).toBe('http/protobuf');
    expect(loadTracingConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).protocol).toBe('http/json');
    expect(
      loadTracingConfig({
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
      }).protocol,
    ).toBe('http/protobuf');
  });

  it('refuses grpc, unknown samplers and ratios outside 0..1, naming the variable', () => {
    expect(() => loadTracingConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(
      /grpc is not supported[\s\S]*OTEL_EXPORTER_OTLP_PROTOCOL/,
    );
    expect(() => loadTracingConfig({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(ConfigError);
    expect(() => loadTracingConfig({ OTEL_TRACES_SAMPLER_ARG: '1.5' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
  });

  it('builds the sampler the variables name', () => {
    expect(samplerFor({ sampler: 'always_off', samplerRatio: 1 }).toString()).toBe('AlwaysOffSampler');
    expect(samplerFor({ sampler: 'traceidratio', samplerRatio: 0.25 }).toString()).toMatch(/0\.25/);
    expect(samplerFor({ sampler: 'parentbased_always_on', samplerRatio: 1 }).toString()).toMatch(
      /ParentBased/,
    );
  });

  it('reads the service name and the trace link template', () => {
    const c = loadTracingConfig({
      OTEL_SERVICE_NAME: 'relay-eu',
      TRACE_URL_TEMPLATE: 'http://j/trace/{traceId}',
    });
    expect(c.serviceName).toBe('relay-eu');
    expect(c.traceUrlTemplate).toBe('http://j/trace/{traceId}');
    expect(() => loadTracingConfig({ TRACE_URL_TEMPLATE: 'http://j/trace/' })).toThrow(/TRACE_URL_TEMPLATE/);
  });
});
