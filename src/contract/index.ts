// The provider contract: pure schemas and the normalisers of what the provider sends back.
export * from './account-details.js';
export * from './field-issues.js';
export * from './image-inference-task.js';
export * from './lossless-json.js';
export * from './models.js';
export * from './provider-responses.js';
