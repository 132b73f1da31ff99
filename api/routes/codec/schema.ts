// The Temporal codec-server protocol (what the Web UI and `temporal --codec-endpoint` send): a list
// of payloads, each metadata value and the data in base64 (protobuf JSON's spelling of bytes).
import { z } from 'zod';

/** Standard base64 with padding, as protobuf JSON writes bytes; at most ~1.5 MB decoded. */
const Base64Schema = z
  .string()
  .max(2_000_000)
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be base64 (standard alphabet, padded)');

/** One Temporal Payload in JSON: `metadata` (`encoding`, …) and `data`, each in base64. */
export const JsonPayloadSchema = z
  .object({
    metadata: z
      .record(z.string().min(1).max(256), Base64Schema)
      .optional()
      .meta({ description: 'Metadata by key, each value in base64 (e.g. `encoding`: `YmluYXJ5L2VuY3J5cHRlZA==`, "binary/encrypted").' }),
    data: Base64Schema.optional().meta({ description: 'The payload bytes, in base64.' }),
  })
  .meta({ id: 'CodecPayload' });

/** The body of POST /codec/decode and /codec/encode, and of their answers. */
export const CodecPayloadsSchema = z
  .object({ payloads: z.array(JsonPayloadSchema).max(1000).meta({ description: 'The payloads, in order; the answer has as many, in the same order.' }) })
  .meta({ id: 'CodecPayloads' });
export type CodecPayloads = z.infer<typeof CodecPayloadsSchema>;
