import type { ProviderName } from '../../workflows/messages';
import { createOxlinAdapter } from './oxlin/adapter';
import type { OxlinConfig } from './oxlin/client';
import { parseOxlinRedirect } from './oxlin/redirect';
import type { AdapterRegistry, ParsedRedirect } from './types';

export interface ProvidersConfig {
  oxlin: OxlinConfig;
}

export function createAdapters(config: ProvidersConfig): AdapterRegistry {
  return { oxlin: createOxlinAdapter(config.oxlin) };
}

/** Pure parsers of each provider's browser redirect, used by the API's callback route. */
export const redirectParsers: Record<ProviderName, (query: unknown) => ParsedRedirect> = {
  oxlin: parseOxlinRedirect,
};

export type { AdapterRegistry, Authorization, ChannelInfo, JobContext, JobOutcome, ParsedRedirect, ProviderAdapter, ProviderConnection, ProviderFailure } from './types';
