// Deterministic accounts and transactions: the same ids and day always give the same data, so a
// later sync adds the new days and changes nothing before them.
import { digits, frenchIban, intBetween, unit } from '../shared/random';
import type { AccountType } from './connectors';
import { DAY_MS } from './scenarios';

export { startOfDay } from '../shared/random';

/** Powens' date-time format, `YYYY-MM-DD HH:MM:SS` (the sandbox writes UTC). */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function formatDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const NAMES: Record<AccountType, string> = {
  checking: 'Compte de chèques',
  card: 'Carte Visa Premier',
  savings: 'Livret A',
  loan: 'Prêt immobilier',
  lifeinsurance: 'Assurance vie',
  market: 'Compte titres',
};

/** Sandbox ids of Powens' account types (`id_type`). */
const TYPE_IDS: Record<AccountType, number> = { checking: 1, savings: 2, loan: 4, market: 5, card: 6, lifeinsurance: 8 };

export interface GeneratedAccount {
  id: number;
  type: AccountType;
  idType: number;
  name: string;
  number: string;
  iban: string | null;
  balance: number;
}

/**
 * The accounts a source finds: one per account type, or `count` of them cycling through the
 * types. Ids are `firstId`, `firstId + 1`, …
 */
export function generateAccounts(firstId: number, bankCode: string, types: readonly AccountType[], count = types.length): GeneratedAccount[] {
  return Array.from({ length: count }, (_, index) => {
    const type = types[index % types.length] as AccountType;
    const id = firstId + index;
    const number = digits(`account:${id}`, 11);
    const round = Math.floor(index / types.length);
    const seed = `balance:${id}`;
    const cents =
      type === 'card' ? -intBetween(seed, 0, 150_000) : type === 'loan' ? -intBetween(seed, 500_000, 15_000_000) : intBetween(seed, 50_000, 2_000_000);
    return {
      id,
      type,
      idType: TYPE_IDS[type],
      name: count === types.length ? NAMES[type] : `${NAMES[type]} ${round + 1}`,
      number: type === 'card' ? `4974XXXXXXXX${number.slice(-4)}` : number,
      iban: type === 'checking' || type === 'savings' ? frenchIban(bankCode, digits(`branch:${id}`, 5), number) : null,
      balance: cents / 100,
    };
  });
}

export interface GeneratedTransaction {
  id: number;
  day: number;
  value: number;
  type: 'card' | 'transfer' | 'order' | 'deposit' | 'bank' | 'loan_payment';
  wording: string;
  category: number;
}

const SPENDINGS = [
  { wording: 'CB CARREFOUR MARKET', category: 10, min: 1_500, max: 12_000 },
  { wording: 'CB BOULANGERIE PAUL', category: 11, min: 250, max: 1_500 },
  { wording: 'CB SNCF CONNECT', category: 20, min: 2_000, max: 15_000 },
  { wording: 'CB PHARMACIE CENTRALE', category: 30, min: 500, max: 4_000 },
  { wording: 'CB FNAC', category: 40, min: 1_000, max: 20_000 },
] as const;

/** The transaction of day `dayIndex` (0 is the account's first day of history). */
export function generateTransaction(accountId: number, type: AccountType, firstDay: number, dayIndex: number): GeneratedTransaction {
  const seed = `tx:${accountId}:${dayIndex}`;
  const base = { id: accountId * 10_000 + dayIndex, day: firstDay + dayIndex * DAY_MS };
  const cycle = dayIndex % 30;
  const spending = SPENDINGS[Math.floor(unit(`${seed}:kind`) * SPENDINGS.length)] ?? SPENDINGS[0];
  const card = { ...base, value: -intBetween(seed, spending.min, spending.max) / 100, type: 'card' as const, wording: spending.wording, category: spending.category };
  switch (type) {
    case 'checking':
      if (cycle === 0) return { ...base, value: intBetween(seed, 210_000, 260_000) / 100, type: 'transfer', wording: 'VIR SEPA SALAIRE ACME SAS', category: 50 };
      if (cycle === 4) return { ...base, value: -850, type: 'order', wording: 'PRLV SEPA LOYER FONCIA', category: 60 };
      return card;
    case 'card':
      return card;
    case 'savings':
      if (cycle === 1) return { ...base, value: 200, type: 'transfer', wording: 'VIR EPARGNE MENSUELLE', category: 70 };
      return { ...base, value: intBetween(seed, 1, 50) / 100, type: 'bank', wording: 'INTERETS CREDITEURS', category: 71 };
    case 'loan':
      return { ...base, value: 950, type: 'loan_payment', wording: 'ECHEANCE PRET IMMOBILIER', category: 80 };
    case 'lifeinsurance':
    case 'market':
      return { ...base, value: cycle === 2 ? 100 : intBetween(seed, -500, 500) / 100, type: 'deposit', wording: cycle === 2 ? 'VERSEMENT PROGRAMME' : 'VALORISATION', category: 90 };
  }
}
