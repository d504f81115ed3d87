export * from './create-producer.js';
export * from './enqueue-batch.js';
