// What the dashboard reads and acts on: the service's queue, task and batch stores, Redis and S3.
// A subset of ServiceContext, so tests and other hosts can build it without a whole service.
import type { ServiceContext } from '../service/start-service.js';

export type DashboardContext = Pick<
  ServiceContext,
  'config' | 'redis' | 'queue' | 'tasks' | 'batches' | 'store' | 'logger'
> &
  Partial<Pick<ServiceContext, 'admission'>>;
