// The OpenAPI 3.1 document of the API, generated from the zod schemas the routes validate with and
// answer with (each route folder's schema.ts: field descriptions and component names with `.meta()`).
// Where the parts are:
// - api/openapi/operations/*.ts: one entry per operation (summary, schemas, errors, examples);
// - api/openapi/errors.ts: the error catalogue; api/openapi/examples.ts: shared examples;
// - api/openapi/describe.ts: shared description helpers; api/openapi/document.ts: the document,
//   assembled by zod-openapi.
export { STORABLE_TEXT, buildOpenApiDocument, pathParamsOf } from './openapi/document';
export { ErrorSchema } from './openapi/errors';
export { operations } from './openapi/operations';
export type { ErrorDoc, HttpMethod, OperationDoc, ParamDoc, RequestExample, ResponseDoc, ResponseExample, Security } from './openapi/types';
