import type { z } from 'zod';

/**
 * A response body, typed by the schema the OpenAPI document gives for it (the route folder's
 * `schema.ts`, assembled by api/openapi/): a body that drifts from what `/openapi.json` promises
 * fails `npm run typecheck`, not a client. `z.input` is the JSON a client reads (before any
 * transform). Returns `body` unchanged; nothing is parsed at run time (test/unit/openapi.test.ts
 * and Schemathesis check the bodies against the document while running).
 */
export function respond<S extends z.ZodType>(_schema: S, body: z.input<S>): z.input<S> {
  return body;
}
