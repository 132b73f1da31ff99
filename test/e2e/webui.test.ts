// What the Temporal Web UI shows of a connection: the static summary and details set at start,
// and current details that follow its state ("awaiting_consent — 3 accounts waiting for consent"),
// read the way the UI reads them (the workflow description and the workflow metadata query).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { workflowMetadataQuery } from '@temporalio/workflow';
import { workflowIdFor } from '../../contract/messages';
import { type Linkflow, startLinkflow } from '../helpers/linkflow';
import { approveAtBank } from '../helpers/oxlin';
import { openHistory } from '../helpers/temporal';

describe('connections in the Temporal Web UI', () => {
  let lf: Linkflow;

  before(async () => {
    lf = await startLinkflow();
  });
  after(async () => {
    await lf?.stop();
  });

  const currentDetails = async (id: string): Promise<string> =>
    (await lf.env.client.workflow.getHandle(workflowIdFor(id)).query(workflowMetadataQuery)).currentDetails ?? '';

  it('carries a summary at start and current details that follow the state', async () => {
    const created = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked', user_ref: 'user-42' });
    assert.equal(created.status, 201);
    const handle = lf.env.client.workflow.getHandle(workflowIdFor(created.body.id));
    const description = await handle.describe();
    assert.equal(await description.staticSummary(), 'oxlin 87 — user-42');
    assert.match((await description.staticDetails()) ?? '', /first channel: redirect/);
    assert.match(await currentDetails(created.body.id), /^\*\*awaiting_redirect\*\* — waiting for the end user at the bank/);

    const callback = await approveAtBank(await lf.openLink(created.body.next_action.url), 'approve', 'alice');
    assert.equal((await fetch(callback, { redirect: 'manual' })).status, 303);
    const waiting = await lf.until(created.body.id, (v) => v.state === 'awaiting_consent');
    assert.equal(await currentDetails(created.body.id), `**awaiting_consent** — ${waiting.accounts.length} accounts waiting for consent`);

    await lf.consentAll(waiting);
    // Each activity carries its summary: the history reads as the lifecycle.
    // Sealed by the payload codec like every payload (user_ref is personal data); opened as the codec endpoint would.
    const raw = await handle.fetchHistory();
    const sealed = (raw.events ?? []).find((e) => e.userMetadata?.summary)?.userMetadata?.summary;
    assert.equal(Buffer.from(sealed?.metadata?.encoding ?? new Uint8Array()).toString(), 'binary/encrypted');
    const history = await openHistory(raw, lf.dataConverter);
    const summaries = await Promise.all(
      (history.events ?? [])
        .filter((e) => e.activityTaskScheduledEventAttributes && e.userMetadata?.summary)
        .map(async (e) => (await lf.env.client.options.loadedDataConverter.payloadConverter.fromPayload(e.userMetadata!.summary!)) as string),
    );
    for (const expected of ['Start authorizing a channel at the provider', 'Queue client webhook events: connection.state_changed, connection.action_required', "List the connection's accounts at the provider", 'Import accounts and transactions into the store, page by page']) {
      assert.ok(summaries.includes(expected), `${expected} in ${JSON.stringify(summaries)}`);
    }
    // So do its timers: each deadline the connection waited on, in the order it waited.
    const timers = await Promise.all(
      (history.events ?? [])
        .filter((e) => e.timerStartedEventAttributes)
        .map(async (e) => (e.userMetadata?.summary ? ((await lf.env.client.options.loadedDataConverter.payloadConverter.fromPayload(e.userMetadata.summary)) as string) : '(none)')),
    );
    assert.deepEqual(timers.slice(0, 2), ['Redirect deadline: the end user comes back from the bank', 'Consent deadline: the end user chooses the accounts to share']);
    assert.match(await currentDetails(created.body.id), /^\*\*active\*\* — last sync .*: \d+ accounts, \+\d+ \/ ~\d+ \/ -\d+ transactions$/);
  });

  it('logs one access line per request: request id, route pattern, status, tenant and connection, as JSON', async () => {
    const created = await lf.call('POST', '/v1/connections', { provider: 'oxlin', institution_id: '87', redirect_url: 'https://client.example/linked' });
    const read = await lf.call('GET', `/v1/connections/${created.body.id}`);
    const requestId = read.headers.get('x-request-id');
    assert.ok(requestId);
    const line = lf.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'request' && l.requestId === requestId);
    assert.ok(line, 'an access line for the request');
    assert.equal(line.component, 'api');
    assert.equal(line.method, 'GET');
    assert.equal(line.route, '/v1/connections/:id');
    assert.equal(line.status, 200);
    assert.equal(line.connectionId, created.body.id);
    assert.match(String(line.tenant), /^ten_/);
    assert.equal(typeof line.durationMs, 'number');
    // The API key that authorized it is nowhere in the log.
    assert.ok(!lf.logs.join('\n').includes(lf.apiKey));
  });
});
