// Linkflow's log on pino: JSON lines by default, readable lines in `pretty`, and secrets redacted
// by configuration whatever a caller passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REDACTED_FIELDS, createLogger } from '../../logger';

const capture = (format: 'json' | 'pretty') => {
  const lines: string[] = [];
  return { lines, log: createLogger('api', (line) => lines.push(line), format) };
};

describe('logger', () => {
  it('writes one JSON object a line: level, time, component, msg and the fields', () => {
    const { lines, log } = capture('json');
    log.warn('provider slow', { provider: 'oxlin', durationMs: 1200 });
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual({ ...line, time: typeof line.time }, { level: 'warn', time: 'string', component: 'api', msg: 'provider slow', provider: 'oxlin', durationMs: 1200 });
    assert.ok(!Number.isNaN(Date.parse(String(line.time))));
  });

  it('writes readable single lines in pretty', () => {
    const { lines, log } = capture('pretty');
    log.info('connection state changed', { workflowId: 'connection-1', to: 'active' });
    assert.match(lines[0]!, /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] INFO: \[api\] connection state changed \{"workflowId":"connection-1","to":"active"\}$/);
  });

  it('redacts credentials, tokens, keys and cookies, at the top and one level down', () => {
    for (const format of ['json', 'pretty'] as const) {
      const { lines, log } = capture(format);
      const secret = 'S3CRET-value';
      const fields = Object.fromEntries(REDACTED_FIELDS.map((name) => [name, `${secret}-${name}`]));
      log.error('request failed', { ...fields, headers: { ...fields, host: 'api.example' }, credentials: [{ id: '301', value: secret }] });
      assert.equal(lines.length, 1);
      assert.ok(!lines[0]!.includes(secret), `${format}: ${lines[0]}`);
      assert.match(lines[0]!, /api\.example/, 'other fields stay');
      assert.match(lines[0]!, /\[redacted\]/);
    }
  });

  it('redacts by name in any letter case and at any depth, and token/secret/password names of every spelling', () => {
    for (const format of ['json', 'pretty'] as const) {
      const { lines, log } = capture(format);
      const caller = { request: { headers: { Authorization: 'Bearer S3CRET-1', Cookie: 'sid=S3CRET-2', host: 'api.example' } } };
      log.warn('provider call', { ...caller, Authorization: 'Bearer S3CRET-3', 'API-Key': 'S3CRET-4', access_token: 'S3CRET-5', refreshToken: 'S3CRET-6', client_secret: 'S3CRET-7', items: [{ webhookSecret: 'S3CRET-8' }] });
      assert.equal(lines.length, 1);
      assert.doesNotMatch(lines[0]!, /S3CRET/, `${format}: ${lines[0]}`);
      assert.match(lines[0]!, /api\.example/, 'other fields stay');
      // The caller's own object is untouched.
      assert.equal(caller.request.headers.Authorization, 'Bearer S3CRET-1');
    }
  });
});
