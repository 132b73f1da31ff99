// Flinks' institutions. The reference documents no listing endpoint: Flinks Connect offers the
// banks itself and names the one the end user chose on the redirect back (reference 000,
// "Redirection and LoginId": `?loginId=…&institution=FlinksCapital`). Linkflow therefore lists the
// institutions the reference and the sandbox name (sandbox/flinks/data.ts INSTITUTIONS); a
// deployment against another Flinks instance still connects any institution its Connect offers
// (POST /v1/connections takes any `institution_id`), it is just not in the catalogue.
import type { Institution } from '../types';

/** An institution as Flinks Connect's `institution` parameter and redirect name it. */
export interface FlinksInstitution {
  /** Flinks' institution name, e.g. `FlinksCapital` (reference 000). */
  id: string;
  /** Its display name (the sandbox Connect page's). */
  name: string;
}

/** Flinks' test institution, the toolbox's FlinksCapital (reference 000; the sandbox's only one). */
export const FLINKS_INSTITUTIONS: readonly FlinksInstitution[] = [{ id: 'FlinksCapital', name: 'Flinks Capital' }];

/** The catalogue entries: Flinks Connect is a redirect; the reference names no country. */
export const flinksInstitutions = (): Institution[] =>
  FLINKS_INSTITUTIONS.map((institution) => ({ provider: 'flinks', id: institution.id, name: institution.name, country: null, modes: ['redirect'] }));
