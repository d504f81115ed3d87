// The standard OpenTelemetry variables, parsed once. Tracing is on only when an OTLP endpoint (or an
// exporter) is named and the SDK is not disabled; otherwise nothing is set up and spans cost nothing.
// The OTLP exporter and the resource detectors also read their own standard variables (headers,
// timeouts, OTEL_RESOURCE_ATTRIBUTES); this module decides on/off, protocol and sampling.
import { z } from 'zod';
import { ConfigError } from '../errors.js';

export const TRACE_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type TraceProtocol = (typeof TRACE_PROTOCOLS)[number];

export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSamplerName = (typeof TRACE_SAMPLERS)[number];

const schema = z.object({
  OTEL_SDK_DISABLED: z.stringbool().default(false),
  OTEL_TRACES_EXPORTER: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z
    .enum(TRACE_PROTOCOLS, { message: `one of ${TRACE_PROTOCOLS.join(', ')} (grpc is not supported)` })
    .optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z
    .enum(TRACE_PROTOCOLS, { message: `one of ${TRACE_PROTOCOLS.join(', ')} (grpc is not supported)` })
    .optional(),
  OTEL_TRACES_SAMPLER: z.enum(TRACE_SAMPLERS).default('parentbased_always_on'),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** Ours: a link from the dashboard's task page to the trace, e.g. `http://jaeger:16686/trace/{traceId}`. */
  TRACE_URL_TEMPLATE: z.string().includes('{traceId}').optional(),
});

export interface TracingConfig {
  enabled: boolean;
  /** Where spans go: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  endpoint: string | undefined;
  protocol: TraceProtocol;
  sampler: TraceSamplerName;
  /** For the ratio samplers; 1 when unset, as the specification says. */
  samplerRatio: number;
  serviceName: string;
  traceUrlTemplate: string | undefined;
}

export const DEFAULT_SERVICE_NAME = 'kontext-relay';

/** Parse the OTEL_* variables. Throws ConfigError naming every bad one. */
export function loadTracingConfig(env: NodeJS.ProcessEnv = process.env): TracingConfig {
  const clean = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => v && (k.startsWith('OTEL_') || k === 'TRACE_URL_TEMPLATE')),
  );
  const r = schema.safeParse(clean);
  if (!r.success) throw new ConfigError(`invalid tracing configuration:\n${z.prettifyError(r.error)}`);
  const c = r.data;
  const exporters = (c.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim());
  const named =
    Boolean(c.OTEL_EXPORTER_OTLP_ENDPOINT || c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ||
    exporters.includes('otlp');
  return Object.freeze({
    enabled: !c.OTEL_SDK_DISABLED && !exporters.includes('none') && named,
    endpoint:
      c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
      (c.OTEL_EXPORTER_OTLP_ENDPOINT
        ? `${c.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`
        : undefined),
    protocol: c.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? c.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    sampler: c.OTEL_TRACES_SAMPLER,
    samplerRatio: c.OTEL_TRACES_SAMPLER_ARG ?? 1,
    serviceName: c.OTEL_SERVICE_NAME ?? DEFAULT_SERVICE_NAME,
    traceUrlTemplate: c.TRACE_URL_TEMPLATE,
  });
}
