// Per-tenant fair-share figures (issue 14) as gauges read from Redis when Prometheus scrapes. Tenants
// default to batch ids, so only the busiest MAX_TENANT_SERIES get their own series.
import { Gauge } from 'prom-client';
import type { RelayMetrics } from '../metrics/relay-metrics.js';
import type { AdmissionStore, TenantFigures } from '../tasks/admission-store.js';

/** Bounds the label cardinality: tenants beyond the busiest this many are left out. */
export const MAX_TENANT_SERIES = 50;

export function collectTenantFigures(metrics: RelayMetrics, admission: AdmissionStore, cap: number): void {
  // One Redis read per scrape, shared by the gauges collected in the same scrape.
  let pending: Promise<TenantFigures[]> | undefined;
  const read = () => {
    pending ??= admission.tenants().finally(() => {
      setImmediate(() => {
        pending = undefined;
      });
    });
    return pending;
  };
  const perTenant = (name: string, help: string, value: (t: TenantFigures) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['tenant'],
      registers: [metrics.registry],
      async collect() {
        this.reset();
        for (const t of (await read()).slice(0, MAX_TENANT_SERIES)) this.set({ tenant: t.tenant }, value(t));
      },
    });
  perTenant('kr_tenant_queued', 'Tasks waiting for a fair-share slot, by tenant', (t) => t.queued);
  perTenant('kr_tenant_in_flight', 'Tasks holding a fair-share slot, by tenant', (t) => t.inFlight);
  perTenant(
    'kr_tenant_ended',
    'Admitted tasks that ended and gave their slot back, by tenant',
    (t) => t.ended,
  );
  perTenant(
    'kr_tenant_share_last_minute',
    'Part of the admissions of the last minute, by tenant',
    (t) => t.shareLastMinute,
  );
  perTenant('kr_tenant_throttled', '1 while the tenant’s max-in-flight binds with work waiting', (t) =>
    t.throttled ? 1 : 0,
  );
  new Gauge({
    name: 'kr_fair_share_in_flight',
    help: 'Tasks holding a fair-share slot, all tenants (at most kr_fair_share_cap)',
    registers: [metrics.registry],
    async collect() {
      this.set(await admission.inFlight());
    },
  });
  new Gauge({
    name: 'kr_fair_share_cap',
    help: 'MAX_IN_FLIGHT',
    registers: [metrics.registry],
    collect() {
      this.set(cap);
    },
  });
}
