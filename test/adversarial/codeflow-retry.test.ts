// Oxlin's client-created REDIRECT flow (use_client_redirect), attacked where Temporal retries
// completeAuthorization after Oxlin already created the connection from the code: the answer of the
// first attempt is lost (the worker died, or the network dropped it after Oxlin answered). The real
// activities, the Oxlin adapter against its sandbox, PGlite, the time-skipping test server; the only
// thing injected is the lost answer (the first attempt runs for real, then fails).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createAdapters } from '../../providers';
import type { Database } from '../../store';
import { AUTHORIZATION_CODE_LIFETIME_MS } from '../../sandbox/oxlin/simulator';
import { type OxlinSandbox, startOxlinSandbox } from '../../sandbox/oxlin/server';
import { approveAtBank, issueToken } from '../helpers/oxlin';
import { openTestDatabase, realActivities, returnFromProvider, startConnection, testSecrets, until } from '../helpers/real-activities';
import { runWorkerWhile, stopQuietly, timeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';

describe('adversarial: completeAuthorization retried after Oxlin created the connection', () => {
  let env: TestWorkflowEnvironment;
  let sandbox: OxlinSandbox;
  let db: Database;
  let clock = 0;

  before(async () => {
    env = await timeSkippingEnv();
    clock = await env.currentTimeMs();
    sandbox = await startOxlinSandbox({ now: () => clock, listDelayMs: 20, syncDelayMs: 20 });
    db = await openTestDatabase();
  });
  after(async () => {
    await sandbox?.close();
    await db?.close();
    await env?.teardown();
  });

  /**
   * The real activities, whose completeAuthorization loses the answer of its first attempt:
   * Oxlin created the connection, then the attempt fails (after `meanwhile`) as a dead worker's would.
   */
  async function losingFirstAnswer(meanwhile: () => void = () => undefined) {
    const adapters = createAdapters(
      { oxlin: { baseUrl: sandbox.url, clientId: 'linkflow-sandbox', clientSecret: 'sandbox-secret', pollIntervalMs: 20 } },
      { secrets: testSecrets(db) },
    );
    const { activities } = await realActivities(db, { oxlin: adapters.oxlin });
    const created: string[] = [];
    const wrapped = {
      ...activities,
      async completeAuthorization(input: Parameters<typeof activities.completeAuthorization>[0]) {
        const answer = await activities.completeAuthorization(input);
        if (answer.created) created.push(answer.connection.providerConnectionId);
        if (Context.current().info.attempt === 1) {
          meanwhile();
          throw new Error('the worker died before the answer was recorded');
        }
        return answer;
      },
    };
    return { activities: wrapped, created };
  }

  /** A new Oxlin redirect connection on `activities`, approved at the bank by `user` and brought back; then `check`. */
  async function approvedAtBank(
    activities: Awaited<ReturnType<typeof losingFirstAnswer>>['activities'],
    user: string,
    check: (handle: Awaited<ReturnType<typeof startConnection>>, connectionId: string) => Promise<void>,
  ): Promise<void> {
    const connectionId = randomUUID();
    const taskQueue = uniqueTaskQueue();
    await runWorkerWhile(env, { taskQueue, activities }, async () => {
      const handle = await startConnection(env, taskQueue, { connectionId, provider: 'oxlin', institutionId: '87', mode: 'redirect' });
      const waiting = await until(handle, (v) => v.state === 'awaiting_redirect');
      assert.equal(waiting.next_action?.type, 'redirect');
      await returnFromProvider(handle, connectionId, 'oxlin', await approveAtBank(waiting.next_action.url, 'approve', user));
      try {
        await check(handle, connectionId);
      } finally {
        await stopQuietly(env, handle.workflowId);
      }
    });
  }

  it("a user_sms connection: the bank's SMS challenge of the account listing still reaches the end user", async () => {
    const { activities, created } = await losingFirstAnswer();
    await approvedAtBank(activities, 'user_sms', async (handle) => {
      const asked = await until(handle, (v) => v.state === 'challenge_required' || v.state === 'failed');
      assert.equal(asked.state, 'challenge_required', `the SMS offer is put to the end user (${asked.reason ?? ''})`);
      assert.ok(created.length >= 1);
      assert.ok(created.every((id) => id === created[0]), 'one Oxlin connection, whatever the attempts');
    });
  });

  it('the code expired between the attempts: the connection Oxlin created is still the one bound, not left behind', async () => {
    const { activities, created } = await losingFirstAnswer(() => {
      clock += AUTHORIZATION_CODE_LIFETIME_MS + 60_000;
    });
    await approvedAtBank(activities, 'alice', async (handle, connectionId) => {
      const listed = await until(handle, (v) => v.state === 'awaiting_consent' || v.state === 'failed');
      const [first] = created;
      assert.ok(first);
      // Oxlin holds the connection the first attempt created: Linkflow must hold it too.
      const token = await issueToken(sandbox);
      const atOxlin = await fetch(`${sandbox.url}/v2.1/connections/${first}`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(atOxlin.status, 200);
      assert.equal(listed.state, 'awaiting_consent', `the connection Oxlin created is used (${listed.reason ?? ""})`);
      const [link] = await db.query<{ connection_id: string }>('SELECT connection_id FROM provider_connections WHERE provider_connection_id = $1', [first]);
      assert.equal(link?.connection_id, connectionId);
    });
  });
});
