import { ApplicationFailure } from '@temporalio/common';
import { PROVIDERS, type ProviderName } from '../contract/messages';
import { type FlinksConfig, createFlinksAdapter } from './flinks/adapter';
import { parseFlinksRedirect } from './flinks/redirect';
import { parseFlinksWebhook, verifyFlinksWebhook } from './flinks/webhook';
import { type LnkfiConfig, createLnkfiAdapter } from './lnkfi/adapter';
import { parseLnkfiRedirect } from './lnkfi/redirect';
import { parseLnkfiWebhook, verifyLnkfiWebhook } from './lnkfi/webhook';
import { createOxlinAdapter } from './oxlin/adapter';
import type { OxlinConfig } from './oxlin/client';
import { parseOxlinRedirect } from './oxlin/redirect';
import { parseOxlinWebhook, verifyOxlinWebhook } from './oxlin/webhook';
import { createPowensAdapter } from './powens/adapter';
import type { PowensConfig } from './powens/client';
import { parsePowensRedirect } from './powens/redirect';
import type { AdapterDeps, AdapterRegistry, ParsedRedirect, ProviderAdapter, WebhookParser, WebhookVerifier } from './types';

/** Each provider's settings; a provider left out is not configured here (its connections fail with a clear reason). */
export interface ProvidersConfig {
  oxlin?: OxlinConfig;
  flinks?: FlinksConfig;
  powens?: PowensConfig;
  lnkfi?: LnkfiConfig;
}

export function createAdapters(config: ProvidersConfig, deps: AdapterDeps): AdapterRegistry {
  const registry = {
    oxlin: config.oxlin && createOxlinAdapter(config.oxlin),
    flinks: config.flinks && createFlinksAdapter(config.flinks, deps),
    powens: config.powens && createPowensAdapter(config.powens, deps),
    lnkfi: config.lnkfi && createLnkfiAdapter(config.lnkfi, deps),
  };
  return Object.fromEntries(PROVIDERS.map((name) => [name, registry[name] ?? unconfigured(name)])) as AdapterRegistry;
}

/** The providers a configuration enables: the API accepts connections for these only. */
export const configuredProviders = (config: ProvidersConfig): ProviderName[] => PROVIDERS.filter((name) => config[name] !== undefined);

/** Stands in for a provider this deployment has no settings for: every call fails for good, saying so. */
function unconfigured(name: ProviderName): ProviderAdapter {
  const fail = (): never => {
    throw ApplicationFailure.nonRetryable(`${name} is not configured on this worker`, 'PROVIDER_NOT_CONFIGURED');
  };
  return {
    listInstitutions: fail,
    authorize: fail,
    credentialFields: fail,
    submitCredentials: fail,
    waitForJob: fail,
    answerChallenge: fail,
    listAccounts: fail,
    giveConsent: fail,
    startSync: fail,
    fetchAccounts: fail,
    fetchTransactions: fail,
    disconnect: fail,
  };
}

/** Each provider's webhook signature check, on the raw body (providers without webhooks have none). */
export const webhookVerifiers: Partial<Record<ProviderName, WebhookVerifier>> = {
  oxlin: verifyOxlinWebhook,
  flinks: verifyFlinksWebhook,
  lnkfi: verifyLnkfiWebhook,
};

/** Each provider's webhook event, as the lifecycle reads it (throws a ZodError when malformed). */
export const webhookParsers: Partial<Record<ProviderName, WebhookParser>> = {
  oxlin: parseOxlinWebhook,
  flinks: parseFlinksWebhook,
  lnkfi: parseLnkfiWebhook,
};

/** Pure parsers of each provider's browser redirect, used by the API's callback route. */
export const redirectParsers: Record<ProviderName, (query: unknown) => ParsedRedirect> = {
  oxlin: parseOxlinRedirect,
  flinks: parseFlinksRedirect,
  powens: parsePowensRedirect,
  lnkfi: parseLnkfiRedirect,
};

export type {
  AdapterDeps,
  AdapterRegistry,
  Authorization,
  ChannelInfo,
  Institution,
  JobContext,
  JobOutcome,
  ParsedRedirect,
  ParsedWebhook,
  ProviderAdapter,
  ProviderConnection,
  ProviderFailure,
  ProviderSecrets,
} from './types';
export { AUTHORIZATION_CODE_REFUSED } from './types';
