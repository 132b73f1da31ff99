// Test users. The username typed on the Connect page selects how the login behaves; any other
// username with the test password is the happy path (see README.md: Test users).

/** Every test user's password (the Flinks toolbox's own: Greatday / Everyday). */
export const TEST_PASSWORD = 'Everyday';

export const SCENARIOS = ['test_mfa', 'test_pending', 'test_many', 'test_history', 'test_revoked', 'test_transfer'] as const;
export type Scenario = (typeof SCENARIOS)[number];

const isScenario = (username: string): username is Scenario => (SCENARIOS as readonly string[]).includes(username);

/**
 * The scenario a username selects, also with a `+tag` (`test_history+7`: the same scenario for
 * another login, since each username is one login); any other name is the happy path.
 */
export const scenarioOf = (username: string): Scenario | undefined => {
  const name = username.split('+')[0] ?? '';
  return isScenario(name) ? name : undefined;
};

/** `test_mfa`'s security question, asked on the Connect page after the password. */
export const SECURITY_QUESTION = { question: 'What city were you born in?', answer: 'Montreal' } as const;

/** How many accounts a `test_many` login has (the happy path has three). */
export const MANY_ACCOUNTS = 25;

/** Days of history before the first connection, and transactions per account and day. */
export function historyOf(scenario: Scenario | undefined): { days: number; perDay: number } {
  return scenario === 'test_history' ? { days: 3 * 365, perDay: 5 } : { days: 90, perDay: 1 };
}
