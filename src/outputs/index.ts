// Getting a result's bytes safely: inline decoding, the SSRF-guarded URL fetch, and image verification.
// Every failure is an OutputFetchError with a stable code and `retryable`.
export * from './check-address.js';
export * from './check-jpeg.js';
export * from './check-png.js';
export * from './check-url.js';
export * from './check-webp.js';
export * from './decode-inline.js';
export * from './detect-image.js';
export * from './fetch-policy.js';
export * from './fetch-url.js';
export * from './get-output-bytes.js';
export * from './guarded-dispatcher.js';
export * from './host-allow-list.js';
export * from './image-size.js';
export * from './image-source.js';
export * from './output-errors.js';
