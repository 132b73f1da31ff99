// The payload codec replay histories tagged `*-encrypted` were recorded with. Its key is a test
// fixture, public on purpose (it seals only these recordings): production keys come from
// LINKFLOW_PAYLOAD_KEYS or the embedded mode's data dir.
import type { DataConverter } from '@temporalio/common';
import { createPayloadCodec, parsePayloadKeys } from '../../domain/payload-codec';

/** `id:base64key` of the recordings' key (32 bytes: "linkflow-replay-fixture-key-0032"). */
export const REPLAY_PAYLOAD_KEYS = `replay-fixture:${Buffer.from('linkflow-replay-fixture-key-0032').toString('base64')}`;

/** Tags whose histories are sealed (`npm run record:histories -- v7-encrypted`). */
export const isEncryptedTag = (tag: string): boolean => tag.endsWith('-encrypted');

/** The data converter sealing and opening the recordings' payloads; plaintext histories pass through it unchanged. */
export const replayDataConverter = (): DataConverter => ({ payloadCodecs: [createPayloadCodec(parsePayloadKeys(REPLAY_PAYLOAD_KEYS))] });
