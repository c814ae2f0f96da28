// The wire protocol shared by gateway, runners and the CLI: zod schemas and their types.
// Import from here; the OpenAPI document is generated from the schemas registered in registry.ts.
export * from './registry.js';
export * from './chat.js';
export * from './params.js';
export * from './backend-methods.js';
export * from './results.js';
export * from './result-values.js';
export * from './usage-fields.js';
export * from './errors.js';
export * from './jobs.js';
export * from './job-requests.js';
export * from './models.js';
export * from './runner-api.js';
