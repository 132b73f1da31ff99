// Descriptions for the OpenAPI document. The shared schemas (contract/messages.ts, the provider
// schemas) carry none and must not be changed for the docs, so field descriptions are kept in a list
// and reach the JSON Schema through a metadata registry built per document (api/openapi/document.ts).
// Each route's schema.ts describes its own request and response fields with `doc`.
import { z } from 'zod';

/** Every (schema, description) pair `doc` was given, in call order (a later one wins). */
export const FIELD_DOCS: [z.ZodType, string][] = [];

/** Documents a schema (field) for the OpenAPI document; returns it unchanged. */
export function doc<T extends z.ZodType>(schema: T, description: string): T {
  FIELD_DOCS.push([schema, description]);
  return schema;
}

/** An ISO 8601 date-time string (what `Date.toISOString` writes). */
export const isoDateTime = () => z.iso.datetime();

/** A decimal amount as a string (`-12.30`), documented with `what`. */
export const decimal = (what: string) => doc(z.string().regex(/^-?\d+(\.\d+)?$/), what);
