export * from './create-producer.js';
export * from './enqueue-batch.js';
export { BULK_PRIORITY, LANES, type Lane } from './job-options.js';
