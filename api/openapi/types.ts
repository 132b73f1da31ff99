// The shape of one documented operation: what api/openapi/document.ts turns into OpenAPI.
import type { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete' | 'patch';

/** `apiKey`: a tenant's key; `admin`: LINKFLOW_ADMIN_KEY; `none`: public. */
export type Security = 'apiKey' | 'admin' | 'none';

export interface ErrorDoc {
  status: number;
  code: string;
  /** When the API answers with it. */
  when: string;
  /** The example's message. */
  message: string;
  details?: unknown;
}

export interface ParamDoc {
  schema: z.ZodType;
  description: string;
  required?: boolean;
}

export interface RequestExample {
  name: string;
  summary: string;
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface ResponseExample {
  name: string;
  summary: string;
  /** The success status it answers with (default: the first response's). */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ResponseDoc {
  status: number;
  description: string;
  /** Default application/json when there is a schema. */
  contentType?: 'application/json' | 'text/html' | 'text/javascript' | 'text/plain';
  /** A schema named with `.meta({ id })` (in the route's schema.ts) is a component, referenced by `$ref`. */
  schema?: z.ZodType;
  headers?: Record<string, ParamDoc>;
}

export interface OperationDoc {
  operationId: string;
  method: HttpMethod;
  /** OpenAPI style: `/v1/connections/{id}`. */
  path: string;
  /**
   * The mounted route this operation is one instance of, when that differs from `path`: each
   * provider's webhook (`/webhooks/oxlin`, …) has its own signature header and body, so each is
   * documented as its own operation of the one route `/webhooks/{provider}`.
   */
  route?: string;
  summary: string;
  description?: string;
  tags: string[];
  security: Security;
  pathParams?: Record<string, ParamDoc>;
  /** The very object the route parses its query string with; one parameter per key. */
  query?: z.ZodObject;
  headers?: Record<string, ParamDoc>;
  /**
   * The very schema the route parses its body with (application/json), named with `.meta({ id })`
   * (a component). A provider webhook's is what its adapter parses, named in
   * api/routes/provider-webhooks/schema.ts.
   */
  body?: { schema: z.ZodType; optional?: boolean };
  /** The success responses, the usual one first. */
  responses: [ResponseDoc, ...ResponseDoc[]];
  errors: ErrorDoc[];
  requestExamples: [RequestExample, ...RequestExample[]];
  responseExamples: [ResponseExample, ...ResponseExample[]];
}
