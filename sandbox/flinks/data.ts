// Institutions, accounts and transactions, generated deterministically from the login id and the
// sandbox clock: the same login shows the same accounts and history in every session.
import { DAY_MS, guidFrom, uint32From } from '../shared/random';
import { MANY_ACCOUNTS, historyOf, type Scenario } from './scenarios';

export { DAY_MS, guidFrom } from '../shared/random';

export interface Institution {
  id: string;
  name: string;
}

/** Flinks' test institution (the toolbox's FlinksCapital). */
export const INSTITUTIONS: readonly Institution[] = [{ id: 'FlinksCapital', name: 'Flinks Capital' }];

export const findInstitution = (id: string): Institution | undefined => INSTITUTIONS.find((i) => i.id === id);

export interface FlinksTransaction {
  Id: string;
  /** `yyyy/MM/dd` */
  Date: string;
  Code: string | null;
  Description: string;
  Debit: number | null;
  Credit: number | null;
  Balance: number;
}

export interface FlinksAccount {
  Id: string;
  Title: string;
  AccountNumber: string;
  LastFourDigits: string | null;
  TransitNumber: string;
  InstitutionNumber: string;
  OverdraftLimit: number;
  Category: 'Operations' | 'Credits';
  Type: 'Chequing' | 'Savings' | 'CreditCard' | 'LineOfCredit';
  Currency: 'CAD' | 'USD';
  Balance: { Available: number; Current: number; Limit: number | null };
  Holder: typeof HOLDER;
  AccountType: null;
  Transactions?: FlinksTransaction[];
}

// Non-ASCII on purpose: webhook bodies must still be pure ASCII (see webhook.ts).
const HOLDER = {
  Name: 'John Doe',
  Address: {
    CivicAddress: '1275 avenue des Canadiens-de-Montréal',
    City: 'Montréal',
    Province: 'QC',
    PostalCode: 'H3B 5E8',
    POBox: null,
    Country: 'CA',
  },
  Email: 'john.doe@example.com',
  PhoneNumber: '(514) 333-7777',
};

interface Template {
  Title: string;
  Category: FlinksAccount['Category'];
  Type: FlinksAccount['Type'];
  Currency: FlinksAccount['Currency'];
  limit: number | null;
}

const TEMPLATES: readonly Template[] = [
  { Title: 'Chequing CAD', Category: 'Operations', Type: 'Chequing', Currency: 'CAD', limit: null },
  { Title: 'Savings CAD', Category: 'Operations', Type: 'Savings', Currency: 'CAD', limit: null },
  { Title: 'Visa Infinite', Category: 'Credits', Type: 'CreditCard', Currency: 'CAD', limit: 10_000 },
  { Title: 'Chequing USD', Category: 'Operations', Type: 'Chequing', Currency: 'USD', limit: null },
  { Title: 'Line of credit', Category: 'Credits', Type: 'LineOfCredit', Currency: 'CAD', limit: 25_000 },
];

const DEBITS = ['Grocery store', 'Coffee shop', 'Gas station', 'Pharmacy', 'Online purchase', 'Restaurant', 'Transit pass', 'Hydro bill'];
const CREDITS = ['Payroll deposit', 'e-Transfer received', 'Interest', 'Refund'];

export const dayOf = (ms: number): number => Math.floor(ms / DAY_MS);

/** `yyyy/MM/dd`, as Flinks dates transactions. */
export function flinksDate(day: number): string {
  const iso = new Date(day * DAY_MS).toISOString();
  return `${iso.slice(0, 4)}/${iso.slice(5, 7)}/${iso.slice(8, 10)}`;
}

/** `2019-04-22T19:35:57.2457187`: Flinks' LastRefresh, UTC without a zone, seven decimals. */
export function flinksTimestamp(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}0000`;
}

export interface LoginData {
  loginId: string;
  scenario: Scenario | undefined;
  /** When the login was first connected: day 0 of its history is `history.days` before. */
  createdAt: number;
  /** The data's extraction time: transactions run up to this day, included. */
  refreshedAt: number;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

function accountCount(scenario: Scenario | undefined): number {
  return scenario === 'test_many' ? MANY_ACCOUNTS : 3;
}

/** Every account of the login as of its last extraction, newest transactions first. */
export function generateAccounts(login: LoginData, withTransactions: boolean, days: number): FlinksAccount[] {
  return Array.from({ length: accountCount(login.scenario) }, (_, index) => generateAccount(login, index, withTransactions, days));
}

function generateAccount(login: LoginData, index: number, withTransactions: boolean, days: number): FlinksAccount {
  const template = TEMPLATES[index % TEMPLATES.length] as Template;
  const id = guidFrom(`${login.loginId}:account:${index}`);
  const number = String(1_000_000 + (uint32From(`${id}:number`) % 9_000_000));
  const credit = template.Category === 'Credits';
  const transactions = history(login, id, credit, index);
  const current = transactions[0]?.Balance ?? 0;
  const account: FlinksAccount = {
    Id: id,
    Title: index < TEMPLATES.length ? template.Title : `${template.Title} ${index + 1}`,
    AccountNumber: template.Type === 'CreditCard' ? `4510********${number.slice(-4)}` : number,
    LastFourDigits: template.Type === 'CreditCard' ? number.slice(-4) : null,
    TransitNumber: '77777',
    InstitutionNumber: '777',
    OverdraftLimit: 0,
    Category: template.Category,
    Type: template.Type,
    Currency: template.Currency,
    Balance: {
      Available: template.limit === null ? current : round2(template.limit - current),
      Current: current,
      Limit: template.limit,
    },
    Holder: HOLDER,
    AccountType: null,
  };
  if (withTransactions) {
    const from = flinksDate(dayOf(login.refreshedAt) - days);
    account.Transactions = transactions.filter((t) => t.Date >= from);
  }
  return account;
}

/** The amount `test_transfer` moves from Chequing CAD (account 0) to Savings CAD (account 1). */
const TRANSFER_AMOUNT = 500;

/**
 * The Id both legs of `test_transfer`'s transfer carry, one in each account: the reference says
 * nothing of how far an Id is unique, and transactions come nested in their account.
 */
export const transferId = (loginId: string): string => guidFrom(`${loginId}:transfer`);

/**
 * One account's transactions from day 0 to the extraction day, newest first, with a running
 * balance (what the card owes, for credit accounts). `test_transfer` adds, on the day of the first
 * connection, a transfer from account 0 to account 1 under one Id.
 */
function history(login: LoginData, accountId: string, credit: boolean, index: number): FlinksTransaction[] {
  const { days, perDay } = historyOf(login.scenario);
  const first = dayOf(login.createdAt) - days;
  const last = dayOf(login.refreshedAt);
  let balance = credit ? 0 : 2_500 + (uint32From(`${accountId}:opening`) % 5_000);
  const out: FlinksTransaction[] = [];
  for (let day = first; day <= last; day++) {
    for (let k = 0; k < perDay; k++) {
      const seed = uint32From(`${accountId}:${day}:${k}`);
      // One transaction in five pays in (salary; or pays the card off), larger than the spending.
      const incoming = seed % 5 === 0;
      const amount = round2((5 + (seed % 20_000) / 100) * (incoming ? (credit ? 4 : 5) : 1));
      balance = round2(balance + (incoming === credit ? -amount : amount));
      const labels = incoming ? CREDITS : DEBITS;
      out.push({
        Id: guidFrom(`${accountId}:transaction:${day}:${k}`),
        Date: flinksDate(day),
        Code: null,
        Description: labels[(seed >>> 8) % labels.length] as string,
        Debit: incoming ? null : amount,
        Credit: incoming ? amount : null,
        Balance: balance,
      });
    }
    if (login.scenario === 'test_transfer' && day === dayOf(login.createdAt) && (index === 0 || index === 1)) {
      balance = round2(balance + (index === 0 ? -TRANSFER_AMOUNT : TRANSFER_AMOUNT));
      out.push({
        Id: transferId(login.loginId),
        Date: flinksDate(day),
        Code: null,
        Description: index === 0 ? 'Transfer to savings' : 'Transfer from chequing',
        Debit: index === 0 ? TRANSFER_AMOUNT : null,
        Credit: index === 0 ? null : TRANSFER_AMOUNT,
        Balance: balance,
      });
    }
  }
  return out.reverse();
}
