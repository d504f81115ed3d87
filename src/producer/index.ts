export { BULK_PRIORITY, LANES, type Lane } from '../tasks/job-options.js';
export * from './create-producer.js';
export * from './enqueue-batch.js';
