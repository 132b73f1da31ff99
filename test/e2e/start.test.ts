// POST /v1/connections under load, end to end (the Temporal dev server, the real worker, the
// sandboxes, PGlite): the start and its first next action are one call (update-with-start), a
// burst of starts answers 201/202 and never a 5xx, and a start that is slow is still answered with
// the id of the connection it started (202), which the same Idempotency-Key attaches to again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PROVIDERS, PROVIDER_CAPABILITIES, type ConnectionView } from '../../contract/messages';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';

const INSTITUTIONS = { oxlin: '87', flinks: 'FlinksCapital', powens: '60', lnkfi: 'xero' } as const;
const REDIRECT_URL = 'https://client.example/linked';

/** Runs `count` calls of `fn`, `concurrency` at a time; answers their results in order. */
async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return results;
}

describe('POST /v1/connections answers the first next action from the workflow', () => {
  let lf: Linkflow;
  before(async () => {
    lf = await startLinkflow();
  });
  after(async () => {
    await lf?.stop();
  });

  for (const provider of PROVIDERS) {
    it(`answers ${provider}'s first next action in one request`, async () => {
      const mode = PROVIDER_CAPABILITIES[provider].modes[0];
      const created = await lf.call('POST', '/v1/connections', { provider, institution_id: INSTITUTIONS[provider], redirect_url: REDIRECT_URL, mode });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const view = created.body as ConnectionView;
      assert.equal(created.headers.get('location'), `/v1/connections/${view.id}`);
      assert.notEqual(view.state, 'authorizing');
      assert.ok(view.next_action, `${provider} offers a next action: ${view.state} ${view.reason}`);
      // What the POST answered is what the connection holds.
      const read = await lf.call('GET', `/v1/connections/${view.id}`);
      assert.equal(read.body.state, view.state);
      assert.equal(read.body.next_action?.type, view.next_action.type);
    });
  }

  it('answers a burst of 50 concurrent starts with 201 or 202, each a real connection', async () => {
    const answers = await pool(50, 50, (i) =>
      lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: REDIRECT_URL, user_ref: `burst-${i}` }),
    );
    const statuses = answers.map((a) => a.status);
    assert.deepEqual(
      statuses.filter((s) => s !== 201 && s !== 202),
      [],
      `statuses: ${statuses.join(',')}`,
    );
    const ids = new Set(answers.map((a) => a.body.id as string));
    assert.equal(ids.size, 50);
    for (const answer of answers) {
      const read = await lf.call('GET', `/v1/connections/${answer.body.id}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.user_ref, answer.body.user_ref);
    }
  });

  it('gives concurrent POSTs with one Idempotency-Key one connection', async () => {
    const key = { 'idempotency-key': `burst-${Date.now()}` };
    const body = { provider: 'oxlin', institution_id: '87', redirect_url: REDIRECT_URL };
    const answers = await Promise.all(Array.from({ length: 8 }, () => lf.call('POST', '/v1/connections', body, key)));
    assert.deepEqual([...new Set(answers.map((a) => a.body.id))].length, 1, 'one connection');
    // Exactly one request started it; the others are replays of it.
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 200, 200, 200, 200, 200, 200, 201]);
    assert.equal(answers.filter((a) => a.headers.get('idempotent-replayed') === 'true').length, 7);
    const again = await lf.call('POST', '/v1/connections', body, key);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, answers[0]?.body.id);
  });

  it('answers every POST of one Idempotency-Key 422 unsupported_mode when its connection starts in no mode it has', async () => {
    const key = { 'idempotency-key': `mode-${Date.now()}` };
    // Powens connector 60 starts with a redirect source only.
    const body = { provider: 'powens', institution_id: '60', redirect_url: REDIRECT_URL, mode: 'embedded' };
    const answers = await Promise.all(Array.from({ length: 4 }, () => lf.call('POST', '/v1/connections', body, key)));
    const retried = await lf.call('POST', '/v1/connections', body, key);
    for (const answer of [...answers, retried]) {
      assert.equal(answer.status, 422, JSON.stringify(answer.body));
      assert.equal(answer.body.error.code, 'unsupported_mode');
      assert.deepEqual(answer.body.error.details, { supported_modes: ['redirect'] });
    }
  });
});

describe('POST /v1/connections when the first next action is slow', () => {
  let lf: Linkflow;
  before(async () => {
    // Waits 1 ms for the first next action, which the bank holds back 1.5 s: every start takes the slow path.
    lf = await startLinkflow({ api: { firstActionWaitMs: 1 }, oxlin: { authorizeDelayMs: 1_500 } });
  });
  after(async () => {
    await lf?.stop();
  });

  it('answers 202 with the started connection, which the same Idempotency-Key attaches to', async () => {
    const key = { 'idempotency-key': `slow-${Date.now()}` };
    const body = { provider: 'oxlin', institution_id: '87', redirect_url: REDIRECT_URL, user_ref: 'slow' };
    const created = await lf.call('POST', '/v1/connections', body, key);
    assert.equal(created.status, 202, JSON.stringify(created.body));
    assert.equal(created.body.state, 'authorizing');
    assert.equal(created.body.next_action, null);
    assert.equal(created.headers.get('location'), `/v1/connections/${created.body.id}`);
    // A real connection: it goes on to offer its redirect.
    const offered = await lf.until(created.body.id, (v) => v.state !== 'authorizing');
    assert.equal(offered.next_action?.type, 'redirect');
    const again = await lf.call('POST', '/v1/connections', body, key);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, created.body.id);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
  });
});
