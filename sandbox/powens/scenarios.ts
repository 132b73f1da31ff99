// Test users: the login typed in a credentials form, or the user name typed in the webview,
// selects what the bank does (see README: Test users).
import { DAY_MS } from '../shared/random';

export const SCENARIOS = [
  'user_otp',
  'user_decoupled',
  'user_sca_later',
  'user_action',
  'user_wrongpass_later',
  'user_pwexpired',
  'user_bug',
  'user_many',
  'user_long',
  'user_short_consent',
  'user_coming',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export function scenarioOf(user: string): Scenario | null {
  return (SCENARIOS as readonly string[]).includes(user) ? (user as Scenario) : null;
}

/** Every test user's password; another one is refused with `wrongpass`. */
export const TEST_PASSWORD = 'sandbox-password';
/** The credentials field the bank checks. */
export const PASSWORD_FIELD = 'password';

/** The one-time code `user_otp`'s bank sends by SMS. */
export const OTP_CODE = '123456';
export const OTP_FIELD = {
  name: 'sms_code',
  label: 'Code reçu par SMS',
  type: 'text',
  regex: '^[0-9]{6}$',
  required: true,
} as const;

export { DAY_MS };
/** Scenarios "at a later sync" apply to syncs this long (sandbox clock) after the source was last authorized. */
export const LATER_MS = DAY_MS;

/** How long a webauth source's access lasts (PSD2 consent). */
export function consentDays(user: string): number {
  return scenarioOf(user) === 'user_short_consent' ? 10 : 180;
}

/** Days of history before the source was added. */
export function historyDays(user: string): number {
  return scenarioOf(user) === 'user_long' ? 3 * 365 : 90;
}

export const MANY_ACCOUNTS = 30;

/** `error_message` for each state, as a bank would word it. */
export const STATE_MESSAGES: Readonly<Record<string, string>> = {
  SCARequired: "Une authentification forte est requise par votre banque.",
  webauthRequired: 'Votre accès a expiré : reconnectez-vous sur le site de votre banque.',
  additionalInformationNeeded: 'Saisissez le code reçu par SMS au 06 •• •• •• 42.',
  decoupled: 'Validez la connexion dans votre application bancaire.',
  validating: 'Validation en cours.',
  actionNeeded: 'Veuillez accepter les nouvelles conditions générales sur le site de votre banque.',
  passwordExpired: 'Votre mot de passe a expiré : changez-le sur le site de votre banque.',
  wrongpass: 'Identifiant ou mot de passe incorrect.',
  rateLimiting: 'Trop de synchronisations : nouvel essai plus tard.',
  websiteUnavailable: 'Le site de la banque est indisponible.',
  bug: 'Erreur inattendue du connecteur.',
};

export const WRONG_CODE_MESSAGE = 'Code incorrect. Un nouveau code vous a été envoyé par SMS.';
