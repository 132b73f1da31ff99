// Every signal, update and query of the connection workflow, with its payload schema: what the API
// and activities import. The zod-free half (definitions and constants, contract/definitions.ts) is
// all workflow code may import values from; the schemas (contract/schemas.ts) validate request
// bodies in the API, and their hand-written twins in contract/checks.ts validate payloads in the
// workflows' update validators and signal handlers.
export * from './schemas';
export * from './definitions';
