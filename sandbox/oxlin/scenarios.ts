// Test users and the SMS challenge. The user name typed at the bank (REDIRECT) or the login
// credential (EMBEDDED) selects how the provider behaves; see README.md.

/** Every test user's password on EMBEDDED channels. */
export const TEST_PASSWORD = 'sandbox-password';

export const SCENARIOS = [
  'user_sms',
  'user_sms_sync',
  'user_wrongpass',
  'user_pwchange',
  'user_action',
  'user_slow',
  'user_short_consent',
  'user_many',
  'user_huge',
  'user_transfer',
] as const;

export type Scenario = (typeof SCENARIOS)[number];

const isScenario = (user: string): user is Scenario => (SCENARIOS as readonly string[]).includes(user);

/** The scenario a user name selects; any other name is the happy path. */
export function scenarioOf(user: string | undefined): Scenario | undefined {
  return user !== undefined && isScenario(user) ? user : undefined;
}

/** How many accounts a `user_many` channel lists. */
export const MANY_ACCOUNTS = 25;

/**
 * `user_huge`: a channel lists 2 accounts of 50,000 transactions each right after a
 * synchronization on the day of creation — 25 a day over 2000 days (about 5.5 years).
 */
export const HUGE_ACCOUNTS = 2;
export const HUGE_PER_DAY = 25;
/** Days of `user_huge` history before the day of creation (which has transactions too). */
export const HUGE_HISTORY_DAYS = 1999;

export const REDIRECT_CONSENT_DAYS = 180;
export const SHORT_CONSENT_DAYS = 10;

export const redirectConsentDays = (user: string | undefined): number =>
  scenarioOf(user) === 'user_short_consent' ? SHORT_CONSENT_DAYS : REDIRECT_CONSENT_DAYS;

// --- the SMS challenge (reference: "User input and challenge") ---------------

export type ChallengeItemType =
  | 'INFO_MSG'
  | 'OK_CANCEL'
  | 'NUMERIC'
  | 'TEXT'
  | 'PWD'
  | 'NUMERIC_PWD'
  | 'DATE'
  | 'TIMEOUT_MSG'
  | 'ERROR_MSG';

export interface ChallengeItem {
  id: string;
  label: string;
  regexp: string;
  type: ChallengeItemType;
  encrypt: false;
  params?: Record<string, string>;
}

/** Item types the user reads; the others are answered through user_input. */
export const MESSAGE_TYPES: ReadonlySet<ChallengeItemType> = new Set<ChallengeItemType>(['INFO_MSG', 'TIMEOUT_MSG', 'ERROR_MSG']);

export const SMS_CODE = '123456';
export const CHALLENGE_TIMEOUT_SECONDS = 120;
/** Wrong codes allowed before TOO_MANY_ATTEMPTS. */
export const CHALLENGE_ATTEMPTS = 3;
const PHONE = '0606060606';

export const SMS_OFFER_ANSWER = '304';
export const SMS_CODE_FIELD = '306';
export const SMS_CONFIRM_ANSWER = '307';

/** Step 1: the bank offers to send a code by SMS. */
export function smsOffer(): ChallengeItem[] {
  return [
    {
      id: '303',
      label:
        'La connexion à Banque demande la saisie d’un code envoyé par SMS sur votre téléphone au {phone}. Souhaitez vous recevoir ce code maintenant ?',
      regexp: '.*',
      type: 'INFO_MSG',
      encrypt: false,
      params: { phone: PHONE },
    },
    { id: SMS_OFFER_ANSWER, label: 'Envoyer le SMS', regexp: '.*', type: 'OK_CANCEL', encrypt: false },
  ];
}

/** Step 2: the code was sent; after a wrong code, the 309 error says how many attempts remain. */
export function smsCodeRequest(remainingAttempts: number): ChallengeItem[] {
  const items: ChallengeItem[] = [
    {
      id: '305',
      label: 'Un code a été envoyé par SMS sur votre téléphone au {phone}.',
      regexp: '.*',
      type: 'INFO_MSG',
      encrypt: false,
      params: { phone: PHONE },
    },
  ];
  if (remainingAttempts < CHALLENGE_ATTEMPTS) {
    items.push({
      id: '309',
      label: 'Code invalide. Encore {remaining_attempts} tentatives',
      regexp: '.*',
      type: 'ERROR_MSG',
      encrypt: false,
      params: { remaining_attempts: String(remainingAttempts) },
    });
  }
  items.push(
    { id: SMS_CODE_FIELD, label: 'Code', regexp: '^[0-9]{6}$', type: 'NUMERIC', encrypt: false },
    {
      id: '308',
      label: 'Il vous reste {timeout} pour valider votre code.',
      regexp: '.*',
      type: 'TIMEOUT_MSG',
      encrypt: false,
      params: { timeout: String(CHALLENGE_TIMEOUT_SECONDS) },
    },
    { id: SMS_CONFIRM_ANSWER, label: 'Valider', regexp: '.*', type: 'OK_CANCEL', encrypt: false },
  );
  return items;
}
