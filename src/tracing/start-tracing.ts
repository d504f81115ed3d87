// Turns tracing on for one process, from the standard OTEL_* variables (config/tracing-config.ts): a
// tracer provider with a batch processor and the OTLP exporter for the chosen protocol, W3C trace-context
// propagation, and an AsyncLocalStorage context manager so log lines can name the active span. When
// tracing is off nothing is registered: the API's no-op tracer makes every span free.
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from '../config/tracing-config.js';

export interface Tracing {
  readonly enabled: boolean;
  /** Export what is buffered (the CLI calls it before it exits). */
  flush(): Promise<void>;
  /** Flush and stop; spans started later are dropped. */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, flush: async () => {}, shutdown: async () => {} };
let running: Tracing | undefined;

/** Start tracing once per process; later calls return the same handle. `role` becomes `kr.role`. */
export function startTracing(cfg: TracingConfig, role: string): Tracing {
  if (running) return running;
  if (!cfg.enabled) return OFF;
  const where = cfg.endpoint ? { url: cfg.endpoint } : {};
  const exporter = cfg.protocol === 'http/json' ? new OtlpJsonExporter(where) : new OtlpProtoExporter(where);
  const detected = detectResources({ detectors: [envDetector] });
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: cfg.serviceName, 'kr.role': role }).merge(
    detected,
  );
  const provider = new TracerProvider({
    resource,
    sampler: samplerFor(cfg),
    spanProcessors: [new BatchSpanProcessor({ exporter })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const handle: Tracing = {
    enabled: true,
    flush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
      running = undefined;
    },
  };
  running = handle;
  return handle;
}

/** Export what this process's tracing buffered, if it was started (a CLI command that returns). */
export async function flushTracing(): Promise<void> {
  await running?.flush();
}

/** Flush and stop this process's tracing if it was started (CLI exit paths); nothing otherwise. */
export async function stopTracing(): Promise<void> {
  await running?.shutdown();
}

export function samplerFor(cfg: Pick<TracingConfig, 'sampler' | 'samplerRatio'>): Sampler {
  const ratio = new TraceIdRatioBasedSampler(cfg.samplerRatio);
  switch (cfg.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
