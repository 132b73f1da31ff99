// LnkFi's systems. The reference documents no listing endpoint: `POST /v1/connection/authorize`
// names the supported systems in its `system` parameter ("Support systems include: xero"), and
// the adapter connects the one system it is configured for (LnkfiConfig.system).
import type { Institution } from '../types';
import type { LnkfiConfig } from './client';

/** Each system the reference names, by its `system` value, with its display name. */
export const LNKFI_SYSTEMS: Readonly<Record<LnkfiConfig['system'], { name: string }>> = {
  xero: { name: 'Xero' },
};

/** The catalogue entry of the configured system: LnkFi authorizes by redirect only; no country. */
export const lnkfiInstitutions = (system: LnkfiConfig['system']): Institution[] => [
  { provider: 'lnkfi', id: system, name: LNKFI_SYSTEMS[system].name, country: null, modes: ['redirect'] },
];
