// POST /codec/decode and /codec/encode: the Temporal codec-server protocol, for the operator's Web UI and CLI.
import { CodecPayloadsSchema } from '../../routes/codec/schema';
import { BODY, E } from '../errors';

/** The body errors, with the codec endpoint's own limit (api/app.ts: a batch of up to two 2 MB payloads). */
const CODEC_BODY = BODY.map((doc) => (doc.code === E.tooLarge.code ? { ...doc, when: 'The body is over 4 MB.' } : doc));
import type { ErrorDoc, OperationDoc } from '../types';

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

const notDecodable: ErrorDoc = {
  status: 422,
  code: 'payload_not_decodable',
  when: 'decode: a payload is sealed with a key id LINKFLOW_PAYLOAD_KEYS does not hold, or its ciphertext does not authenticate (tampered). Nothing is returned for the batch.',
  message: 'an encrypted payload names key k2024, which is not among the configured keys (k2026)',
};

const SEALED = {
  metadata: { encoding: b64('binary/encrypted'), 'encryption-key-id': b64('k2026') },
  data: 'q83vASNFZ4mrze8BEjRWeJq83vASNFZ4mrze8BEjRWeJq83vASNFZ4k=',
};
const PLAIN = { metadata: { encoding: b64('json/plain') }, data: b64('{"state":"active"}') };

const common: Pick<OperationDoc, 'method' | 'tags' | 'security' | 'body'> = {
  method: 'post',
  tags: ['Admin'],
  security: 'admin',
  body: { schema: CodecPayloadsSchema },
};

/** The codec endpoint the Temporal Web UI (TEMPORAL_CODEC_ENDPOINT, `--ui-codec-endpoint`) and `temporal --codec-endpoint` call. */
export const codecOperations: OperationDoc[] = [
  {
    ...common,
    operationId: 'decodePayloads',
    path: '/codec/decode',
    summary: 'Decode payloads (codec server)',
    description:
      "Opens payloads sealed by Linkflow's payload codec (AES-256-GCM, `encoding: binary/encrypted`, the key in `encryption-key-id`) so the Temporal Web UI and CLI show them; payloads not sealed come back unchanged. CORS: the Web UI's origin (LINKFLOW_UI_ORIGIN) only; preflights are answered.",
    responses: [{ status: 200, description: 'The payloads, opened, in the same order.', schema: CodecPayloadsSchema }],
    errors: [E.adminUnauthorized, E.adminOff, ...CODEC_BODY, notDecodable],
    requestExamples: [{ name: 'sealed', summary: 'A sealed payload', body: { payloads: [SEALED] } }],
    responseExamples: [{ name: 'opened', summary: 'Opened', body: { payloads: [PLAIN] } }],
  },
  {
    ...common,
    operationId: 'encodePayloads',
    path: '/codec/encode',
    summary: 'Encode payloads (codec server)',
    description: 'Seals payloads with the current (first) key of LINKFLOW_PAYLOAD_KEYS, as the client and the worker do: what the Web UI sends when an operator signals or starts a workflow from it.',
    responses: [{ status: 200, description: 'The payloads, sealed, in the same order.', schema: CodecPayloadsSchema }],
    errors: [E.adminUnauthorized, E.adminOff, ...CODEC_BODY],
    requestExamples: [{ name: 'plain', summary: 'A JSON payload', body: { payloads: [PLAIN] } }],
    responseExamples: [{ name: 'sealed', summary: 'Sealed', body: { payloads: [SEALED] } }],
  },
];
