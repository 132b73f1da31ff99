// Oxlin's redirect back, parsed: what the browser can and cannot make Linkflow believe.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOxlinRedirect } from '../../providers/oxlin/redirect';

describe("parseOxlinRedirect: a code stands alone", () => {
  it('a code with the state is a success whose connection Linkflow creates; a connection_id next to it is ignored', () => {
    for (const query of [{ state: 's', code: 'c' }, { state: 's', code: 'c', connection_id: '42', queue_id: 'q' }]) {
      const parsed = parseOxlinRedirect(query);
      assert.equal(parsed.authorizationCode, 'c');
      assert.deepEqual(parsed.redirect, { outcome: 'success' });
    }
  });

  it('a code next to a denial is ignored: the denial stands', () => {
    const parsed = parseOxlinRedirect({ state: 's', status: 'FAILED', error: 'access_denied', code: 'c' });
    assert.equal(parsed.authorizationCode, undefined);
    assert.equal(parsed.redirect.outcome, 'denied');
    assert.equal(parseOxlinRedirect({ state: 's', error: 'server_error', code: 'c' }).redirect.outcome, 'failed');
  });

  it("a code next to a renewal's status and connection_id is ignored: the renewal keeps its connection", () => {
    const parsed = parseOxlinRedirect({ state: 's', status: 'SUCCESS', connection_id: '42', queue_id: 'q', code: 'c' });
    assert.equal(parsed.authorizationCode, undefined);
    assert.deepEqual(parsed.redirect, { outcome: 'success', providerConnectionId: '42', providerRef: { queueId: 'q' } });
  });

  it('neither a code nor a status is a failed authorization, not a success', () => {
    assert.deepEqual(parseOxlinRedirect({ state: 's' }).redirect, { outcome: 'failed', error: 'neither a code nor a status' });
    assert.throws(() => parseOxlinRedirect({ state: 's', code: '' }));
    assert.throws(() => parseOxlinRedirect({ state: 's', code: ['a', 'b'] }));
  });
});
