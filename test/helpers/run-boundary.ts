// The fake provider of the run-boundary tests: it can hold a connection's first run at its last
// sync (the job, the import), at the final hand-over of events before it continues as new, or
// inside an answer or credentials call, so a test sends its message at exactly that moment.
import type { Activities, WebhookActivities } from '../../activities';
import { FakeProvider } from './fake-provider';

/**
 * Imports in a connection's first run: the one consent starts, then 15 sync cycles
 * (SYNC_CYCLES_PER_RUN.withWebhookEvents) before it continues as new.
 */
export const IMPORTS_IN_FIRST_RUN = 16;

/** The redirect back from the bank for the fake provider's authorization `nonce`. */
export const redirectOk = (nonce: string) => ({ nonce, outcome: 'success', providerConnectionId: 'ox-1', providerRef: { queueId: 'q-1' } }) as const;

type Acts = Activities & Pick<WebhookActivities, 'emitWebhookEvent' | 'emitWebhookEvents'>;

/** A promise the test opens when it is ready: activities wait on it at the chosen moment. */
export class Gate {
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  reached = false;
  release(): void {
    this.open();
  }
}

/**
 * The fake provider with gates at the first run's last sync job (`job`), its last import
 * (`import`), the hand-over of that sync's `connection.synced` event right before the run continues
 * as new (`flush`), and on every answerChallenge / submitCredentials once armed. `hold(at)` arms a
 * gate and returns it; imports record their `full` flag in `fulls`.
 */
export function boundaryProvider() {
  const fake = new FakeProvider();
  const gates = { import: new Gate(), flush: new Gate(), job: new Gate(), answer: new Gate(), credentials: new Gate() };
  const armed = { import: false, flush: false, job: false, answer: false, credentials: false };
  const fulls: boolean[] = [];
  const base = fake.activities();
  let synced = 0;
  let syncJobs = 0;
  // The first run's last `connection.synced`, as one event (emitWebhookEvent) or in a batch.
  const holdLastSynced = async (events: { type: string }[]): Promise<void> => {
    const syncedNow = events.filter((e) => e.type === 'connection.synced').length;
    if (syncedNow === 0) return;
    synced += syncedNow;
    if (synced >= IMPORTS_IN_FIRST_RUN && synced - syncedNow < IMPORTS_IN_FIRST_RUN && armed.flush) {
      gates.flush.reached = true;
      await gates.flush.opened;
    }
  };
  const activities: Acts = {
    ...base,
    waitForJob: async (input) => {
      if (input.job === 'sync' && ++syncJobs === IMPORTS_IN_FIRST_RUN && armed.job) {
        gates.job.reached = true;
        await gates.job.opened;
      }
      return base.waitForJob(input);
    },
    importData: async (input) => {
      fulls.push(input.full ?? false);
      if (armed.import && fulls.length === IMPORTS_IN_FIRST_RUN) {
        gates.import.reached = true;
        await gates.import.opened;
      }
      return base.importData(input);
    },
    emitWebhookEvent: async (event) => {
      await holdLastSynced([event]);
      return base.emitWebhookEvent(event);
    },
    emitWebhookEvents: async (events) => {
      await holdLastSynced(events);
      return base.emitWebhookEvents(events);
    },
    answerChallenge: async (input) => {
      if (armed.answer) {
        gates.answer.reached = true;
        await gates.answer.opened;
      }
      return base.answerChallenge(input);
    },
    submitCredentials: async (input) => {
      if (armed.credentials) {
        gates.credentials.reached = true;
        await gates.credentials.opened;
      }
      return base.submitCredentials(input);
    },
  };
  return {
    fake,
    activities,
    fulls,
    hold: (at: keyof typeof gates) => {
      armed[at] = true;
      return gates[at];
    },
  };
}

/** A boundary provider: its fake, its activities, the `full` flag of every import, and `hold(at)`. */
export type BoundaryProvider = ReturnType<typeof boundaryProvider>;
