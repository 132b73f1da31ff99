import type { ProviderAdapter } from './types';

type Refresh = NonNullable<ProviderAdapter['refreshAuthorizationUrl']>;

/**
 * `refreshAuthorizationUrl` for providers whose authorization URL is a short-lived session that
 * `authorize` opens with no other effect (Oxlin's authorize_url, LnkFi's /v1/connection/authorize:
 * 30 minutes in their sandboxes): the same authorization asked for again, with the same signed
 * state (so the redirect it brings back is the one the connection awaits) and, for a renewal or
 * repair, the same provider connection and channel. Without the state (unknown) the URL stays.
 */
export function reauthorizing(authorize: ProviderAdapter['authorize']): Refresh {
  return async ({ url, authorization: { state, existing, channelId, ...started } }) => {
    if (state === null) return url;
    const again = await authorize({ ...started, mode: 'redirect', state, ...(existing ? { existing: { ...existing, channelId } } : {}) });
    return again.kind === 'redirect' ? again.url : url;
  };
}
