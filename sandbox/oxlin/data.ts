import { digits, frenchIban, intBetween, pick } from '../shared/random';

export type ChannelMode = 'REDIRECT' | 'EMBEDDED';
export type AccountType = 'CHECKINGS' | 'SAVINGS' | 'CREDIT_CARD' | 'LOAN';
export type CredentialType = 'TEXT' | 'PWD' | 'NUMERIC' | 'NUMERIC_PWD' | 'DATE';

export interface CredentialDefinition {
  id: string;
  label: string;
  regexp: string;
  type: CredentialType;
  encrypt: boolean;
}

export interface ChannelDefinition {
  id: string;
  mode: ChannelMode;
  account_types: AccountType[];
  interactive: boolean;
  credentials: CredentialDefinition[];
}

export interface Provider {
  id: string;
  name: string;
  branch_name: string;
  base_url: string;
  logo_url: string;
  country_code: string;
  channel_definitions: ChannelDefinition[];
  unavailable: boolean;
}

const logoUrl = (providerId: string): string =>
  `https://static.oxlin.io/common/pictures/providers_logos/${providerId}.png`;

// The HSBC entry is the union of the two HSBC examples of the reference (one shows
// `logo_url` and `interactive`, the other `credentials: []` on the REDIRECT definition).
export const PROVIDERS: readonly Provider[] = [
  {
    id: '87',
    name: 'Linxo Test Bank',
    branch_name: '',
    base_url: 'https://stettestbank.linxo.com',
    logo_url: logoUrl('87'),
    country_code: 'FRA',
    channel_definitions: [
      {
        id: '8701',
        mode: 'REDIRECT',
        account_types: ['CHECKINGS', 'CREDIT_CARD'],
        interactive: false,
        credentials: [],
      },
      {
        id: '8702',
        mode: 'EMBEDDED',
        account_types: ['SAVINGS', 'LOAN'],
        interactive: true,
        credentials: [
          { id: '300', label: 'Identifiant', regexp: '.+', type: 'TEXT', encrypt: false },
          { id: '301', label: 'Mot de passe', regexp: '.+', type: 'PWD', encrypt: true },
          { id: '302', label: 'URL du fichier de configuration', regexp: '^https?://.+$', type: 'TEXT', encrypt: false },
        ],
      },
    ],
    unavailable: false,
  },
  {
    id: '119',
    name: 'HSBC',
    branch_name: '',
    base_url: 'https://www.hsbc.fr/1/2/hsbc-france/particuliers/connexion',
    logo_url: logoUrl('119'),
    country_code: 'FRA',
    channel_definitions: [
      {
        id: 'redirect1',
        mode: 'REDIRECT',
        account_types: ['CHECKINGS', 'CREDIT_CARD'],
        interactive: false,
        credentials: [],
      },
      {
        id: 'embedded1',
        mode: 'EMBEDDED',
        account_types: ['SAVINGS', 'LOAN'],
        interactive: false,
        credentials: [
          { id: '3500', label: 'Identifiant', regexp: '^[\\a-zA-Z0-9@._-]{7,}$', type: 'TEXT', encrypt: false },
          { id: '3501', label: 'Réponse mémorable', regexp: '.+', type: 'PWD', encrypt: false },
          { id: '3502', label: 'Mot de passe (8 car. min.)', regexp: '^.{8,}$', type: 'PWD', encrypt: true },
        ],
      },
    ],
    unavailable: false,
  },
];

export function findProvider(providerId: string): Provider | undefined {
  return PROVIDERS.find((provider) => provider.id === providerId);
}

/**
 * Which credential of each EMBEDDED channel definition is the login (it selects the test
 * user) and which the password. Kept apart from PROVIDERS, which is served as is.
 */
export const CREDENTIAL_ROLES: Readonly<Record<string, { login: string; password: string }>> = {
  '8702': { login: '300', password: '301' },
  embedded1: { login: '3500', password: '3502' },
};

// ---------------------------------------------------------------------------
// Deterministic generators

export const DAY_SECONDS = 86_400;
/** Transactions start this many days before the connection was created. */
export const HISTORY_DAYS = 90;

const toAmount = (cents: number): number => Math.round(cents) / 100;

export interface GeneratedAccount {
  id: string;
  name: string;
  type: AccountType;
  balance: number;
  account_number: string;
  iban: string | null;
}

interface AccountTemplate {
  type: AccountType;
  name: string;
}

// A channel lists, for each of its account types, the accounts below (in order).
const ACCOUNT_TEMPLATES: Record<AccountType, readonly AccountTemplate[]> = {
  CHECKINGS: [
    { type: 'CHECKINGS', name: 'Compte courant' },
    { type: 'CHECKINGS', name: 'Compte joint' },
  ],
  CREDIT_CARD: [{ type: 'CREDIT_CARD', name: 'Carte Visa Premier' }],
  SAVINGS: [{ type: 'SAVINGS', name: 'Livret A' }],
  LOAN: [{ type: 'LOAN', name: 'Prêt immobilier' }],
};

function accountBalance(accountId: string, type: AccountType): number {
  const seed = `balance:${accountId}`;
  switch (type) {
    case 'CHECKINGS':
      return toAmount(intBetween(seed, 50_000, 500_000));
    case 'CREDIT_CARD':
      return toAmount(-intBetween(seed, 0, 150_000));
    case 'SAVINGS':
      return toAmount(intBetween(seed, 100_000, 2_000_000));
    case 'LOAN':
      return toAmount(-intBetween(seed, 500_000, 15_000_000));
  }
}

export interface AccountGeneration {
  /** The two-digit index of the first account (`${connectionId}NN`). */
  firstIndex: number;
  /** How many accounts, cycling through the account types; the default is one set of templates. */
  count?: number;
}

function templatesFor(accountTypes: readonly AccountType[], count: number | undefined): AccountTemplate[] {
  const templates = accountTypes.flatMap((type) => ACCOUNT_TEMPLATES[type]);
  if (count === undefined) return templates;
  return Array.from({ length: count }, (_, index) => {
    const type = accountTypes[index % accountTypes.length];
    const template = type === undefined ? undefined : ACCOUNT_TEMPLATES[type][0];
    if (!template) throw new Error('no account type to generate');
    return { type: template.type, name: `${template.name} ${Math.floor(index / accountTypes.length) + 1}` };
  });
}

/**
 * The accounts a channel lists for a connection. Ids are the connection id followed by a
 * two-digit index (`${connectionId}01`, …), numbered from `firstIndex` across the channel's
 * account types.
 */
export function generateAccounts(
  connectionId: string,
  providerId: string,
  accountTypes: readonly AccountType[],
  generation: AccountGeneration,
): GeneratedAccount[] {
  const bankCode = digits(`bank:${providerId}`, 5);
  return templatesFor(accountTypes, generation.count).map((template, index) => {
    const id = `${connectionId}${String(generation.firstIndex + index).padStart(2, '0')}`;
    const number = digits(`account:${id}`, 11);
    const isCard = template.type === 'CREDIT_CARD';
    return {
      id,
      name: template.name,
      type: template.type,
      balance: accountBalance(id, template.type),
      account_number: isCard ? `4974 **** **** ${number.slice(-4)}` : number,
      iban: isCard || template.type === 'LOAN' ? null : frenchIban(bankCode, digits(`branch:${connectionId}`, 5), number),
    };
  });
}

/**
 * A transaction's booking status. The reference we follow shows no transaction fields; Oxlin's
 * Accounts API (GET /transactions) has `status` with BOOKED, PENDING, OTHER, EXPIRED, REJECTED,
 * CANCELLED and REFUNDED: the sandbox serves the first two (see README: Pending transactions).
 */
export type TransactionStatus = 'BOOKED' | 'PENDING';

export interface Transaction {
  /** Unique within its account only (the sandbox's `user_transfer` shares one across two accounts). */
  id: string;
  account_id: string;
  /** Unix seconds (midnight UTC of the booking day). */
  date: number;
  /** Decimal, negative for debits, in the account's currency. */
  amount: number;
  currency: 'EUR';
  label: string;
  category_id: string;
  status: TransactionStatus;
}

interface Spending {
  label: string;
  category_id: string;
  minCents: number;
  maxCents: number;
}

const CARD_SPENDINGS: readonly Spending[] = [
  { label: 'CB CARREFOUR MARKET', category_id: '10', minCents: 1_500, maxCents: 12_000 },
  { label: 'CB MONOPRIX', category_id: '10', minCents: 800, maxCents: 6_000 },
  { label: 'CB BOULANGERIE PAUL', category_id: '11', minCents: 250, maxCents: 1_500 },
  { label: 'CB SNCF CONNECT', category_id: '20', minCents: 2_000, maxCents: 15_000 },
  { label: 'CB TOTALENERGIES', category_id: '21', minCents: 3_000, maxCents: 9_000 },
  { label: 'CB PHARMACIE CENTRALE', category_id: '30', minCents: 500, maxCents: 4_000 },
  { label: 'CB FNAC', category_id: '40', minCents: 1_000, maxCents: 20_000 },
  { label: 'CB RESTAURANT LE PETIT ZINC', category_id: '12', minCents: 1_800, maxCents: 9_000 },
];

interface Entry {
  label: string;
  category_id: string;
  cents: number;
}

function cardSpending(seed: string): Entry {
  const spending = pick(`${seed}:kind`, CARD_SPENDINGS);
  return { label: spending.label, category_id: spending.category_id, cents: -intBetween(`${seed}:amount`, spending.minCents, spending.maxCents) };
}

/** The `slot`-th transaction of day `dayIndex`; slot 0 keeps the seed of the one-a-day histories. */
function entryFor(accountId: string, type: AccountType, dayIndex: number, slot: number): Entry {
  const seed = slot === 0 ? `tx:${accountId}:${dayIndex}` : `tx:${accountId}:${dayIndex}:${slot}`;
  // Salary, rent and bills come at most once a day: on the day's first transaction.
  const dayOfCycle = slot === 0 ? dayIndex % 30 : -1;
  switch (type) {
    case 'CHECKINGS':
      if (dayOfCycle === 0) return { label: 'VIR SEPA SALAIRE ACME SAS', category_id: '50', cents: intBetween(seed, 210_000, 260_000) };
      if (dayOfCycle === 4) return { label: 'PRLV SEPA LOYER FONCIA', category_id: '60', cents: -85_000 };
      if (dayOfCycle === 9) return { label: 'PRLV SEPA EDF', category_id: '61', cents: -intBetween(seed, 4_000, 9_000) };
      return cardSpending(seed);
    case 'CREDIT_CARD':
      return cardSpending(seed);
    case 'SAVINGS':
      if (dayOfCycle === 1) return { label: 'VIR EPARGNE MENSUELLE', category_id: '70', cents: 20_000 };
      return { label: 'INTERETS CREDITEURS', category_id: '71', cents: intBetween(seed, 1, 50) };
    case 'LOAN':
      if (dayOfCycle === 5) return { label: 'ECHEANCE PRET IMMOBILIER', category_id: '80', cents: 95_000 };
      return { label: 'INTERETS INTERCALAIRES', category_id: '81', cents: -intBetween(seed, 100, 900) };
  }
}

/**
 * Where an account's transactions lie: `perDay` of them each day from `firstDay` (midnight UTC,
 * Unix seconds) on. Transaction `index` (0 = the oldest) is the `index % perDay`-th of day
 * `floor(index / perDay)`, so any page is computed from its ranks without building the others.
 */
export interface History {
  firstDay: number;
  perDay: number;
}

/** Midnight UTC (Unix seconds) of the first day that has transactions, `historyDays` before the connection's creation. */
export function firstTransactionDay(connectionCreationSeconds: number, historyDays = HISTORY_DAYS): number {
  const start = connectionCreationSeconds - historyDays * DAY_SECONDS;
  return start - (((start % DAY_SECONDS) + DAY_SECONDS) % DAY_SECONDS);
}

/** How many transactions exist from the history's first day up to `untilSeconds` (its whole day included). */
export function transactionCount(history: History, untilSeconds: number): number {
  if (untilSeconds < history.firstDay) return 0;
  return (Math.floor((untilSeconds - history.firstDay) / DAY_SECONDS) + 1) * history.perDay;
}

/** The index of the first transaction booked on or after `daySeconds` (a midnight UTC). */
export function firstIndexFrom(history: History, daySeconds: number): number {
  return Math.max(0, Math.ceil((daySeconds - history.firstDay) / DAY_SECONDS)) * history.perDay;
}

/** Transaction `index` (0 = the oldest) of an account: the same inputs always give the same transaction. */
export function generateTransaction(accountId: string, type: AccountType, history: History, index: number): Transaction {
  const dayIndex = Math.floor(index / history.perDay);
  const entry = entryFor(accountId, type, dayIndex, index % history.perDay);
  return {
    id: `${accountId}-${index}`,
    account_id: accountId,
    date: history.firstDay + dayIndex * DAY_SECONDS,
    amount: toAmount(entry.cents),
    currency: 'EUR',
    label: entry.label,
    category_id: entry.category_id,
    status: 'BOOKED',
  };
}

/** The id both legs of `user_transfer`'s internal transfer carry, one on each account. */
export const TRANSFER_ID = 'TRF-1';

/**
 * `user_transfer`'s two legs, booked on `day` (midnight UTC, Unix seconds): 500 EUR from the
 * channel's first account to its second, the same id on both, as banks number transfers per account.
 */
export function transferLegs(from: string, to: string, day: number): [Transaction, Transaction] {
  const leg = (accountId: string, amount: number, label: string): Transaction => ({
    id: TRANSFER_ID,
    account_id: accountId,
    date: day,
    amount,
    currency: 'EUR',
    label,
    category_id: '90',
    status: 'BOOKED',
  });
  return [leg(from, -500, 'VIR INTERNE VERS COMPTE JOINT'), leg(to, 500, 'VIR INTERNE DE COMPTE COURANT')];
}
