// S3 storage: the client factory, the object store (the one place that knows the bucket) and the key layout.
// Nothing outside this folder talks to S3 directly.
export * from './key-layout.js';
export * from './object-metadata.js';
export * from './object-store.js';
export * from './s3-client.js';
