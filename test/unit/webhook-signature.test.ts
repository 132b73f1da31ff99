// The clients' verification helper against what Linkflow's delivery activity signs.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { webhookBody, webhookSignature } from '../../activities/webhooks';
import { WebhookVerificationError, verifyWebhook } from '../../api/clients/webhooks';
import type { WebhookEvent } from '../../contract/messages';

const secret = 'whsec_test-secret-test-secret-test-secret-0001';
const event: WebhookEvent = {
  id: 'evt_6f1c2f0e-8a51-4a4e-9d0b-3f2b1c9e7a10_3',
  type: 'connection.synced',
  tenant_id: 'ten_1',
  connection_id: '6f1c2f0e-8a51-4a4e-9d0b-3f2b1c9e7a10',
  created_at: '2025-01-02T03:04:05.000Z',
  data: { synced_at: '2025-01-02T03:04:05.000Z', accounts: 2, transactions_added: 14, transactions_modified: 1, transactions_removed: 0 },
};
const signedAt = 1_735_787_045; // 2025-01-02T03:04:05Z
const at = (seconds: number) => seconds * 1000;
const rawBody = webhookBody(event);
const header = webhookSignature(secret, signedAt, rawBody);

function rejects(code: WebhookVerificationError['code'], fn: () => unknown) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WebhookVerificationError, `expected a WebhookVerificationError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

describe('verifyWebhook', () => {
  it('signs t=<seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")> over the body the client receives', () => {
    const mac = createHmac('sha256', secret).update(`${signedAt}.${rawBody}`).digest('hex');
    assert.equal(header, `t=${signedAt},v1=${mac}`);
    // The client sees no tenant id: only the event.
    assert.deepEqual(Object.keys(JSON.parse(rawBody)), ['id', 'type', 'created_at', 'connection_id', 'data']);
  });

  it('returns the event for a valid signature, from a string or the raw bytes', () => {
    const { tenant_id: _tenant, ...body } = event;
    assert.deepEqual(verifyWebhook({ secret, rawBody, signatureHeader: header, now: at(signedAt + 10) }), body);
    const bytes = Buffer.from(rawBody);
    assert.equal(verifyWebhook({ secret, rawBody: bytes, signatureHeader: header, now: new Date(at(signedAt)) }).id, event.id);
    // Node hands a repeated header as an array: one value is fine.
    assert.equal(verifyWebhook({ secret, rawBody, signatureHeader: [header], now: at(signedAt) }).type, 'connection.synced');
  });

  it('rejects a tampered body, including the same JSON re-serialised', () => {
    const tampered = rawBody.replace('"transactions_added":14', '"transactions_added":15');
    assert.notEqual(tampered, rawBody);
    rejects('bad_signature', () => verifyWebhook({ secret, rawBody: tampered, signatureHeader: header, now: at(signedAt) }));
    const reserialised = JSON.stringify(JSON.parse(rawBody), null, 1);
    rejects('bad_signature', () => verifyWebhook({ secret, rawBody: reserialised, signatureHeader: header, now: at(signedAt) }));
  });

  it('rejects the wrong secret, and a timestamp changed after signing', () => {
    rejects('bad_signature', () => verifyWebhook({ secret: `${secret}x`, rawBody, signatureHeader: header, now: at(signedAt) }));
    const moved = header.replace(`t=${signedAt}`, `t=${signedAt + 60}`);
    rejects('bad_signature', () => verifyWebhook({ secret, rawBody, signatureHeader: moved, now: at(signedAt) }));
  });

  it('rejects a stale or future timestamp outside the tolerance, and accepts one inside it', () => {
    rejects('stale_timestamp', () => verifyWebhook({ secret, rawBody, signatureHeader: header, now: at(signedAt + 301) }));
    rejects('stale_timestamp', () => verifyWebhook({ secret, rawBody, signatureHeader: header, now: at(signedAt - 301) }));
    assert.equal(verifyWebhook({ secret, rawBody, signatureHeader: header, now: at(signedAt + 300) }).id, event.id);
    assert.equal(verifyWebhook({ secret, rawBody, signatureHeader: header, now: at(signedAt + 3600), toleranceSeconds: 3600 }).id, event.id);
    rejects('stale_timestamp', () => verifyWebhook({ secret, rawBody, signatureHeader: header, now: at(signedAt + 31), toleranceSeconds: 30 }));
  });

  it('rejects a missing or malformed header', () => {
    const mac = header.split('v1=')[1] as string;
    rejects('missing_header', () => verifyWebhook({ secret, rawBody, signatureHeader: undefined, now: at(signedAt) }));
    rejects('missing_header', () => verifyWebhook({ secret, rawBody, signatureHeader: '', now: at(signedAt) }));
    for (const malformed of [
      mac,
      `v1=${mac}`,
      `t=${signedAt}`,
      `t=${signedAt},v1=`,
      `t=${signedAt},v1=${mac.slice(0, 63)}`,
      `t=${signedAt},v1=${mac}zz`,
      `t=soon,v1=${mac}`,
      `t=${signedAt},t=${signedAt},v1=${mac}`,
      `t=${signedAt};v1=${mac}`,
    ]) {
      rejects('malformed_header', () => verifyWebhook({ secret, rawBody, signatureHeader: malformed, now: at(signedAt) }));
    }
    rejects('malformed_header', () => verifyWebhook({ secret, rawBody, signatureHeader: [header, header], now: at(signedAt) }));
  });

  it('accepts any matching one of several v1 values (secret rotation), ignores other schemes, rejects when none match', () => {
    const mac = header.split('v1=')[1] as string;
    const other = createHmac('sha256', 'whsec_other').update(`${signedAt}.${rawBody}`).digest('hex');
    for (const signatureHeader of [`t=${signedAt},v1=${other},v1=${mac}`, `t=${signedAt}, v1=${mac}, v1=${other}`, `v0=abc,t=${signedAt},v1=${mac}`]) {
      assert.equal(verifyWebhook({ secret, rawBody, signatureHeader, now: at(signedAt) }).id, event.id, signatureHeader);
    }
    rejects('bad_signature', () => verifyWebhook({ secret, rawBody, signatureHeader: `t=${signedAt},v1=${other},v1=${'0'.repeat(64)}`, now: at(signedAt) }));
  });

  it('rejects a validly signed body that is not a Linkflow event', () => {
    const notJson = 'hello';
    rejects('malformed_body', () =>
      verifyWebhook({ secret, rawBody: notJson, signatureHeader: webhookSignature(secret, signedAt, notJson), now: at(signedAt) }),
    );
    rejects('malformed_body', () => verifyWebhook({ secret, rawBody: '[]', signatureHeader: webhookSignature(secret, signedAt, '[]'), now: at(signedAt) }));
  });
});
