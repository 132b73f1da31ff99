import type { ProviderEvent, ProviderName } from '../../workflows/messages';
import { createOxlinAdapter } from './oxlin/adapter';
import type { OxlinConfig } from './oxlin/client';
import { parseOxlinRedirect } from './oxlin/redirect';
import { parseOxlinWebhook, verifyOxlinWebhook } from './oxlin/webhook';
import type { AdapterRegistry, ParsedRedirect } from './types';

export interface ProvidersConfig {
  oxlin: OxlinConfig;
}

export function createAdapters(config: ProvidersConfig): AdapterRegistry {
  return { oxlin: createOxlinAdapter(config.oxlin) };
}

/** Each provider's webhook signature check, on the raw body. */
export const webhookVerifiers: Record<
  ProviderName,
  (rawBody: Buffer, headers: Record<string, string | string[] | undefined>, secret: string) => boolean
> = { oxlin: verifyOxlinWebhook };

/** Each provider's webhook event, as the lifecycle reads it (throws a ZodError when malformed). */
export const webhookParsers: Record<ProviderName, (json: unknown) => { providerConnectionId: string; event: ProviderEvent | null }> = {
  oxlin: parseOxlinWebhook,
};

/** Pure parsers of each provider's browser redirect, used by the API's callback route. */
export const redirectParsers: Record<ProviderName, (query: unknown) => ParsedRedirect> = {
  oxlin: parseOxlinRedirect,
};

export type { AdapterRegistry, Authorization, ChannelInfo, JobContext, JobOutcome, ParsedRedirect, ProviderAdapter, ProviderConnection, ProviderFailure } from './types';
