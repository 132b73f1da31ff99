// Deterministic Xero data for the sandbox: organisations, their chart of accounts and bank
// transactions, all derived from ids and the sandbox clock, so tests can predict them.
import { DAY_MS, intBetween, pick, startOfDay, unit, uuidV4From } from '../shared/random';
import { type Scenario, bankAccountCount, historyDays, organisationCount } from './scenarios';

export { DAY_MS, startOfDay } from '../shared/random';

/** A GUID (Xero's id format) that depends only on `seed`. */
export const guid = uuidV4From;

/** Xero's JSON date: `/Date(1585699200000+0000)/`. */
export const xeroDate = (ms: number): string => `/Date(${ms}+0000)/`;

/** `2020-04-01T00:00:00`, Xero's DateString. */
const dateString = (ms: number): string => new Date(ms).toISOString().slice(0, 19);

// --- organisations (LnkFi's instances) -------------------------------------------

export interface Organisation {
  id: string;
  name: string;
  currency: string;
  countryCode: string;
  /** Active bank accounts in its chart of accounts. */
  bankAccounts: number;
  /** The first day (ms at 00:00 UTC) with bank transactions. */
  firstDay: number;
  /** The day the connection was first made (00:00 UTC). */
  connectedDay: number;
}

const ORGANISATIONS = [
  { name: 'Acme', currency: 'USD', countryCode: 'US' },
  { name: 'Acme UK Ltd', currency: 'GBP', countryCode: 'GB' },
] as const;

/** The organisations a connection shares; the same for every authorization of the connection. */
export function organisationsFor(connectionId: string, scenario: Scenario | undefined, createdAt: number): Organisation[] {
  const connectedDay = startOfDay(createdAt);
  const firstDay = connectedDay - historyDays(scenario) * DAY_MS;
  return ORGANISATIONS.slice(0, organisationCount(scenario)).map((template, index) => ({
    id: guid(`organisation:${connectionId}:${index}`),
    name: template.name,
    currency: template.currency,
    countryCode: template.countryCode,
    bankAccounts: bankAccountCount(scenario),
    firstDay,
    connectedDay,
  }));
}

export function organisationResource(org: Organisation): Record<string, unknown> {
  return {
    OrganisationID: org.id,
    APIKey: '',
    Name: org.name,
    LegalName: org.name,
    PaysTax: true,
    Version: org.countryCode === 'GB' ? 'UK' : 'US',
    OrganisationType: 'COMPANY',
    BaseCurrency: org.currency,
    CountryCode: org.countryCode,
    IsDemoCompany: false,
    OrganisationStatus: 'ACTIVE',
    FinancialYearEndDay: 31,
    FinancialYearEndMonth: 12,
    ShortCode: `!${guid(`short:${org.id}`).slice(0, 5)}`,
    CreatedDateUTC: xeroDate(org.firstDay),
    Timezone: 'UTC',
    OrganisationEntityType: 'COMPANY',
    Edition: 'BUSINESS',
  };
}

// --- chart of accounts --------------------------------------------------------------

export interface XeroAccount {
  AccountID: string;
  Code: string;
  Name: string;
  Type: string;
  Status: 'ACTIVE' | 'ARCHIVED';
  Class: string;
  TaxType: string;
  EnablePaymentsToAccount: boolean;
  ShowInExpenseClaims: boolean;
  ReportingCode: string;
  HasAttachments: boolean;
  UpdatedDateUTC: string;
  AddToWatchlist: boolean;
  BankAccountNumber?: string;
  BankAccountType?: 'BANK' | 'CREDITCARD';
  CurrencyCode?: string;
}

const BANK_NAMES = ['Business Cheque Account', 'Business Savings Account', 'Business Visa Card'] as const;

/** Bank account `index` of an organisation: mostly cheque and savings accounts, every third a credit card. */
function bankAccount(org: Organisation, index: number, status: 'ACTIVE' | 'ARCHIVED'): XeroAccount {
  const id = guid(`account:${org.id}:${index}`);
  const card = index % 3 === 2;
  const base = BANK_NAMES[index % 3] ?? 'Bank Account';
  return {
    AccountID: id,
    Code: String(90 + index).padStart(3, '0'),
    Name: status === 'ARCHIVED' ? 'Old Cheque Account' : index < 3 ? base : `${base} ${Math.floor(index / 3) + 1}`,
    Type: 'BANK',
    Status: status,
    Class: card ? 'LIABILITY' : 'ASSET',
    TaxType: 'NONE',
    EnablePaymentsToAccount: false,
    ShowInExpenseClaims: false,
    ReportingCode: card ? 'LIA' : 'ASS',
    HasAttachments: false,
    UpdatedDateUTC: xeroDate(org.firstDay),
    AddToWatchlist: false,
    BankAccountNumber: card ? `4111${String(intBetween(`card:${id}`, 0, 999_999_999_999)).padStart(12, '0')}` : bankNumber(org, id),
    BankAccountType: card ? 'CREDITCARD' : 'BANK',
    CurrencyCode: org.currency,
  };
}

function bankNumber(org: Organisation, id: string): string {
  const digits = String(intBetween(`number:${id}`, 10_000_000, 99_999_999));
  return org.countryCode === 'GB' ? `20-00-00 ${digits}` : `0${digits}1`;
}

const LEDGER_ACCOUNTS = [
  { Code: '200', Name: 'Sales', Type: 'REVENUE', Class: 'REVENUE', ReportingCode: 'REV' },
  { Code: '400', Name: 'Advertising', Type: 'EXPENSE', Class: 'EXPENSE', ReportingCode: 'EXP' },
  { Code: '610', Name: 'Accounts Receivable', Type: 'CURRENT', Class: 'ASSET', ReportingCode: 'ASS' },
  { Code: '800', Name: 'Accounts Payable', Type: 'CURRLIAB', Class: 'LIABILITY', ReportingCode: 'LIA' },
] as const;

/** The organisation's chart of accounts: its bank accounts (one archived), then a few ledger accounts. */
export function chartOfAccounts(org: Organisation): XeroAccount[] {
  const bank = Array.from({ length: org.bankAccounts }, (_, index) => bankAccount(org, index, 'ACTIVE'));
  const archived = bankAccount(org, org.bankAccounts, 'ARCHIVED');
  const ledger = LEDGER_ACCOUNTS.map(
    (template): XeroAccount => ({
      AccountID: guid(`ledger:${org.id}:${template.Code}`),
      ...template,
      Status: 'ACTIVE',
      TaxType: template.Type === 'REVENUE' ? 'OUTPUT' : 'INPUT',
      EnablePaymentsToAccount: false,
      ShowInExpenseClaims: template.Type === 'EXPENSE',
      HasAttachments: false,
      UpdatedDateUTC: xeroDate(org.firstDay),
      AddToWatchlist: false,
    }),
  );
  return [...bank, archived, ...ledger];
}

// --- bank transactions ------------------------------------------------------------

export interface XeroBankTransaction {
  BankTransactionID: string;
  Type: 'RECEIVE' | 'SPEND';
  Contact: { ContactID: string; Name: string };
  LineItems: never[];
  BankAccount: { AccountID: string; Code: string; Name: string };
  IsReconciled: boolean;
  Date: string;
  DateString: string;
  Reference: string;
  CurrencyCode: string;
  Status: 'AUTHORISED' | 'DELETED';
  LineAmountTypes: 'Inclusive';
  SubTotal: number;
  TotalTax: number;
  Total: number;
  UpdatedDateUTC: string;
  HasAttachments: boolean;
}

const CUSTOMERS = ['Ridgeway University', 'City Limousines', 'Marine Systems', 'Bayside Club', 'Hamilton Smith Ltd'] as const;
const SUPPLIERS = ['PowerDirect', 'Net Connect', 'Swanston Security', 'Capital Cab Co', 'Xero'] as const;

/** Days before the connection was made whose transaction is DELETED (it stays listed, as in Xero). */
export const DELETED_DAY_OFFSET = 30;

/**
 * One transaction a day per active bank account, from the organisation's first day up to
 * `now`: moving the clock a day ahead adds one per account and changes none.
 */
export function bankTransactions(org: Organisation, account: XeroAccount, now: number): XeroBankTransaction[] {
  if (account.Type !== 'BANK' || account.Status !== 'ACTIVE') return [];
  const deletedDay = org.connectedDay - DELETED_DAY_OFFSET * DAY_MS;
  const out: XeroBankTransaction[] = [];
  for (let day = org.firstDay; day <= startOfDay(now); day += DAY_MS) {
    const id = guid(`transaction:${account.AccountID}:${day}`);
    const receive = unit(`type:${id}`) < 0.35;
    const total = intBetween(`total:${id}`, receive ? 10_000 : 500, receive ? 500_000 : 80_000) / 100;
    const contact = receive ? pick(`contact:${id}`, CUSTOMERS) : pick(`contact:${id}`, SUPPLIERS);
    out.push({
      BankTransactionID: id,
      Type: receive ? 'RECEIVE' : 'SPEND',
      Contact: { ContactID: guid(`contact:${org.id}:${contact}`), Name: contact },
      LineItems: [],
      BankAccount: { AccountID: account.AccountID, Code: account.Code, Name: account.Name },
      IsReconciled: day < startOfDay(now) - 7 * DAY_MS,
      Date: xeroDate(day),
      DateString: dateString(day),
      Reference: receive ? `INV-${intBetween(`ref:${id}`, 1000, 9999)}` : `Payment ${contact}`,
      CurrencyCode: account.CurrencyCode ?? org.currency,
      Status: day === deletedDay ? 'DELETED' : 'AUTHORISED',
      LineAmountTypes: 'Inclusive',
      SubTotal: total,
      TotalTax: 0,
      Total: total,
      UpdatedDateUTC: xeroDate(day + intBetween(`updated:${id}`, 9, 17) * 3_600_000),
      HasAttachments: false,
    });
  }
  return out;
}

