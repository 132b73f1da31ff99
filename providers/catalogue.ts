// The institution catalogue: one searchable list across the configured providers (GET
// /v1/institutions, the Connect page's "choosing" step). The API process runs no activities, so it
// asks the adapters itself, built from the same configuration as the worker's, and caches each
// provider's answer.
import type { ProviderName } from '../contract/messages';
import type { Logger } from '../logger';
import type { Institution, ProviderAdapter } from './types';

/** What to list: one provider only, and/or institutions whose name or id contains `q`. */
export interface InstitutionQuery {
  provider?: ProviderName;
  /**
   * A substring of the name or the id, compared case- and accent-insensitively (`societe` finds
   * `Société`); empty or absent: every institution.
   */
  q?: string;
}

/**
 * Every configured provider's institutions. `list` never throws for a provider that fails: it
 * answers that provider's last good list (however old), or, when it never had one, leaves the
 * provider out; either way it logs a warning naming the provider. One provider down never costs
 * the others.
 */
export interface InstitutionCatalogue {
  /** The providers it lists: those this deployment has settings for. */
  readonly providers: readonly ProviderName[];
  /**
   * The institutions matching `query`, sorted by name (then provider, then id). A `provider` the
   * catalogue does not list gives an empty list (the API refuses it first, 422).
   */
  list(query?: InstitutionQuery): Promise<Institution[]>;
}

export interface InstitutionCatalogueOptions {
  /** The configured providers' adapters (only their listInstitutions is used). */
  adapters: Partial<Record<ProviderName, Pick<ProviderAdapter, 'listInstitutions'>>>;
  logger: Logger;
  /** How long a provider's list is served before it is asked again, in ms (default 10 min). */
  ttlMs?: number;
  /**
   * Longest `list` waits for a provider's answer, in ms (default 5 s): then it answers without it
   * (last good list, or left out) while the request goes on and fills the cache when it ends.
   */
  waitMs?: number;
  /** After a failed listing, how long before the provider is asked again, in ms (default 30 s, at most `ttlMs`). */
  retryMs?: number;
  /** The clock, in ms since the epoch (default Date.now). */
  now?: () => number;
}

export const DEFAULT_INSTITUTIONS_TTL_MS = 10 * 60_000;
const DEFAULT_WAIT_MS = 5_000;
const DEFAULT_RETRY_MS = 30_000;

interface Entry {
  /** The last list the provider answered, and when. */
  good: { institutions: Institution[]; at: number } | null;
  /** Not asked again before this (after a failure). */
  retryAt: number;
  inflight: Promise<void> | null;
}

/** Lower case without diacritics: what `q` is compared on. */
const fold = (text: string): string => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });
const byName = (a: Institution, b: Institution): number =>
  collator.compare(a.name, b.name) || a.provider.localeCompare(b.provider) || a.id.localeCompare(b.id);

/** The catalogue over `options.adapters`; see InstitutionCatalogue for what it answers when a provider fails. */
export function createInstitutionCatalogue(options: InstitutionCatalogueOptions): InstitutionCatalogue {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? DEFAULT_INSTITUTIONS_TTL_MS;
  const waitMs = options.waitMs ?? DEFAULT_WAIT_MS;
  const retryMs = Math.min(options.retryMs ?? DEFAULT_RETRY_MS, ttlMs);
  const sources = Object.entries(options.adapters).filter((entry): entry is [ProviderName, Pick<ProviderAdapter, 'listInstitutions'>] => entry[1] !== undefined);
  const entries = new Map<ProviderName, Entry>(sources.map(([name]) => [name, { good: null, retryAt: 0, inflight: null }]));

  const warn = (provider: ProviderName, entry: Entry, problem: string) =>
    options.logger.warn(`the institutions of ${provider} could not be listed: ${entry.good ? 'serving its last good list' : 'left out of the catalogue'}`, {
      provider,
      error: problem,
      ...(entry.good ? { listedAt: new Date(entry.good.at).toISOString() } : {}),
    });

  function refresh(provider: ProviderName, adapter: Pick<ProviderAdapter, 'listInstitutions'>, entry: Entry): Promise<void> {
    entry.inflight ??= adapter
      .listInstitutions()
      .then(
        (institutions) => {
          entry.good = { institutions: institutions.filter((i) => i.provider === provider && i.modes.length > 0), at: now() };
        },
        (err: unknown) => {
          entry.retryAt = now() + retryMs;
          warn(provider, entry, String(err));
        },
      )
      .finally(() => {
        entry.inflight = null;
      });
    return entry.inflight;
  }

  async function current(provider: ProviderName, adapter: Pick<ProviderAdapter, 'listInstitutions'>): Promise<Institution[]> {
    const entry = entries.get(provider) as Entry;
    const fresh = entry.good !== null && now() - entry.good.at < ttlMs;
    if (!fresh && now() >= entry.retryAt) {
      let timer: NodeJS.Timeout | undefined;
      const answered = await Promise.race([
        refresh(provider, adapter, entry).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), waitMs);
        }),
      ]);
      clearTimeout(timer);
      if (!answered) warn(provider, entry, `no answer within ${waitMs} ms`);
    }
    return entry.good?.institutions ?? [];
  }

  return {
    providers: sources.map(([name]) => name),
    async list(query = {}) {
      const asked = sources.filter(([name]) => query.provider === undefined || name === query.provider);
      const lists = await Promise.all(asked.map(([name, adapter]) => current(name, adapter)));
      const needle = fold(query.q ?? '');
      return lists
        .flat()
        .filter((i) => needle === '' || fold(i.name).includes(needle) || fold(i.id).includes(needle))
        .map((i) => ({ ...i, modes: [...i.modes] }))
        .sort(byName);
    },
  };
}
