// What GET /readyz checks and how GET /metrics counts connections by state, built from the parts
// the composition root (app/linkflow.ts) holds: the Temporal client, the store, the providers' URLs.
import type { Client, Connection } from '@temporalio/client';
import { CONNECTION_STATES, type ConnectionState, type ProviderName } from '../contract/messages';
import type { Database } from '../store';
import type { ConnectionStateCounts, ReadinessCheck } from '../api/routes/operations/operations';

/**
 * /readyz's checks: `temporal` (the frontend answers GetSystemInfo, as the SDK asks when it connects), `store` (a
 * `select 1` answers) and `provider:<name>` for each configured provider (its base URL answers
 * over HTTP, whatever the status: reachable is what is checked, not authorized).
 */
export function readinessChecks(connection: Connection, db: Database, providerUrls: Partial<Record<ProviderName, string>>): ReadinessCheck[] {
  return [
    {
      name: 'temporal',
      // What the SDK itself asks when it connects. A gRPC deadline, not the abort signal: the SDK's
      // retries of UNAVAILABLE outlive an aborted call (20 s against a port that refuses), a deadline ends them.
      check: async (_signal, deadline) => void (await connection.withDeadline(deadline, () => connection.workflowService.getSystemInfo({}))),
    },
    { name: 'store', check: async () => void (await db.query('select 1')) },
    ...Object.entries(providerUrls).map(([provider, url]) => ({
      name: `provider:${provider}`,
      async check(signal: AbortSignal) {
        const response = await fetch(url, { method: 'GET', redirect: 'manual', signal });
        await response.body?.cancel();
      },
    })),
  ];
}

const RUNNING_CONNECTIONS = 'WorkflowType = "connectionWorkflow" AND ExecutionStatus = "Running"';

/**
 * Running connection workflows per LinkflowState, from Temporal visibility: one `GROUP BY` count,
 * or one count per state where the visibility store cannot group by a search attribute.
 */
export function connectionStateCounts(client: Client): ConnectionStateCounts {
  let grouping = true;
  const perState = async () => {
    const counts = await Promise.all(
      CONNECTION_STATES.map(async (state) => [state, (await client.workflow.count(`${RUNNING_CONNECTIONS} AND LinkflowState = "${state}"`)).count] as const),
    );
    return Object.fromEntries(counts);
  };
  return async () => {
    if (grouping) {
      try {
        const { groups } = await client.workflow.count(`${RUNNING_CONNECTIONS} GROUP BY LinkflowState`);
        const counts: Partial<Record<ConnectionState, number>> = {};
        for (const { groupValues, count } of groups) {
          const value = [groupValues[0]].flat()[0];
          if ((CONNECTION_STATES as readonly unknown[]).includes(value)) counts[value as ConnectionState] = count;
        }
        return counts;
      } catch (err) {
        // The SDK wraps the server's reason ("Failed to count workflows"): when counting per state
        // works where grouping did not, grouping is not supported here, and is not asked again.
        const counts = await perState().catch(() => Promise.reject(err));
        grouping = false;
        return counts;
      }
    }
    return perState();
  };
}
