// Test users of the fake Xero login page. The local part of the e-mail address typed there
// selects how the connection behaves; any other address is the happy path (see README.md).

export const SCENARIOS = ['many_accounts', 'long_history', 'late_webhook', 'two_orgs'] as const;
export type Scenario = (typeof SCENARIOS)[number];

const isScenario = (name: string): name is Scenario => (SCENARIOS as readonly string[]).includes(name);

/** The scenario an e-mail address selects (`many_accounts@example.com`), if any. */
export function scenarioOf(email: string): Scenario | undefined {
  const local = email.split('@')[0]?.toLowerCase() ?? '';
  return isScenario(local) ? local : undefined;
}

/** Active bank accounts per organisation: three, or 25 for `many_accounts`. */
export const bankAccountCount = (scenario: Scenario | undefined): number => (scenario === 'many_accounts' ? 25 : 3);

/** Days of history before the connection was made: 90, or three years for `long_history`. */
export const historyDays = (scenario: Scenario | undefined): number => (scenario === 'long_history' ? 1095 : 90);

/** Organisations (LnkFi instances) the end user shares: one, or two for `two_orgs`. */
export const organisationCount = (scenario: Scenario | undefined): number => (scenario === 'two_orgs' ? 2 : 1);
