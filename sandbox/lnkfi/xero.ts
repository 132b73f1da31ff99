// The proxied system: a small Xero Accounting API (api.xro/2.0) for one organisation, as
// LnkFi's proxy reaches it. Shapes follow Xero's: an envelope {Id, Status, ProviderName,
// DateTimeUTC, <Resource>: [...]}, `where` / `order` / `page` query parameters, and Xero's own
// error bodies (see README: The proxied Xero API).
import { randomUUID } from 'node:crypto';
import { type Organisation, bankTransactions, chartOfAccounts, organisationResource } from './data';

export const XERO_API_ORIGIN = 'https://api.xero.com';
const API_PREFIX = '/api.xro/2.0/';
const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

export interface XeroResponse {
  status: number;
  body: unknown;
}

type XeroObject = object;

class XeroRequestError extends Error {
  constructor(readonly response: XeroResponse) {
    super(`Xero answered ${response.status}`);
  }
}

const validation = (message: string): XeroRequestError =>
  new XeroRequestError({ status: 400, body: { ErrorNumber: 10, Type: 'ValidationException', Message: message, Elements: [] } });

const queryParse = (message: string): XeroRequestError =>
  new XeroRequestError({ status: 400, body: { ErrorNumber: 16, Type: 'QueryParseException', Message: message } });

const NOT_FOUND: XeroResponse = {
  status: 404,
  body: { Title: 'Not Found', Status: 404, Detail: "The resource you're looking for cannot be found" },
};

/** Answers one GET of the Xero API for `org`, as Xero would. */
export function xeroRequest(org: Organisation, url: URL, now: number): XeroResponse {
  try {
    const resource = url.pathname.toLowerCase().startsWith(API_PREFIX.toLowerCase())
      ? url.pathname.slice(API_PREFIX.length).replace(/\/$/, '').toLowerCase()
      : null;
    const query = url.searchParams;
    const envelope = { Id: randomUUID(), Status: 'OK', ProviderName: 'LnkFi', DateTimeUTC: `/Date(${now})/` };
    switch (resource) {
      case 'organisation':
        return { status: 200, body: { ...envelope, Organisations: [organisationResource(org)] } };
      case 'accounts':
        return { status: 200, body: { ...envelope, Accounts: select(chartOfAccounts(org), query) } };
      case 'banktransactions':
        return { status: 200, body: { ...envelope, ...paged('BankTransactions', transactionsOf(org, query, now), query) } };
      default:
        return NOT_FOUND;
    }
  } catch (error) {
    if (error instanceof XeroRequestError) return error.response;
    throw error;
  }
}

/**
 * How many bank transactions `GET BankTransactions?where=BankAccount.AccountID=guid("…")` lists
 * for each active bank account of `org` now (same selection as that request), split by `Status`:
 * `AUTHORISED` ones and the `DELETED` ones Xero keeps listing. By AccountID, chart order.
 */
export function bankTransactionCounts(org: Organisation, now: number): Array<{ accountId: string; authorised: number; deleted: number }> {
  return chartOfAccounts(org)
    .filter((account) => account.Type === 'BANK' && account.Status === 'ACTIVE')
    .map((account) => {
      const listed = transactionsOf(org, new URLSearchParams({ where: `BankAccount.AccountID=guid("${account.AccountID}")` }), now);
      const deleted = listed.filter((t) => (t as { Status?: string }).Status === 'DELETED').length;
      return { accountId: account.AccountID, authorised: listed.length - deleted, deleted };
    });
}

/** Only the account a `BankAccount.AccountID` filter names is generated: long histories stay cheap. */
function transactionsOf(org: Organisation, query: URLSearchParams, now: number): XeroObject[] {
  const clauses = parseWhere(query.get('where'));
  const accountFilter = clauses.find((c) => c.path === 'BankAccount.AccountID');
  const accounts = chartOfAccounts(org).filter(
    (a) => accountFilter === undefined || matches(a.AccountID, accountFilter.value),
  );
  const all = accounts.flatMap((account) => bankTransactions(org, account, now));
  return select(all, query, (a, b) => compare(a, b, 'Date') || compare(a, b, 'BankTransactionID'));
}

/** `where` and `order` applied to a resource's items. */
function select<T extends XeroObject>(items: T[], query: URLSearchParams, byDefault?: (a: T, b: T) => number): T[] {
  const clauses = parseWhere(query.get('where'));
  const filtered = items.filter((item) => clauses.every((c) => matches(valueAt(item, c.path), c.value)));
  const order = parseOrder(query.get('order'), items[0]);
  if (order) return filtered.sort((a, b) => order.direction * compare(a, b, order.field));
  return byDefault ? filtered.sort(byDefault) : filtered;
}

/** With `page`, Xero answers that page (`pageSize`, 100 by default) and a `pagination` summary; without, everything. */
function paged(name: string, items: XeroObject[], query: URLSearchParams): Record<string, unknown> {
  const pageParam = query.get('page');
  if (pageParam === null) return { [name]: items };
  const page = wholeNumber(pageParam, 'page', 1, Number.MAX_SAFE_INTEGER);
  const sizeParam = query.get('pageSize');
  const pageSize = sizeParam === null ? DEFAULT_PAGE_SIZE : wholeNumber(sizeParam, 'pageSize', 1, MAX_PAGE_SIZE);
  return {
    pagination: { page, pageSize, pageCount: Math.ceil(items.length / pageSize), itemCount: items.length },
    [name]: items.slice((page - 1) * pageSize, page * pageSize),
  };
}

function wholeNumber(text: string, name: string, min: number, max: number): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw validation(`${name} must be a whole number from ${min} to ${max}`);
  return value;
}

// --- where and order ----------------------------------------------------------------

interface Clause {
  path: string;
  value: { kind: 'string' | 'guid' | 'boolean'; text: string };
}

// Xero's filters are C#-like expressions; the sandbox understands equality clauses joined by
// && or AND: `Type=="BANK"`, `Status=="ACTIVE"`, `BankAccount.AccountID=guid("…")`, `IsReconciled==true`.
const CLAUSE = /^([A-Za-z]\w*(?:\.[A-Za-z]\w*)*)\s*==?\s*(?:"([^"]*)"|guid\("([0-9a-f-]{36})"\)|(true|false))$/i;

function parseWhere(where: string | null): Clause[] {
  if (where === null || where.trim() === '') return [];
  return where.split(/\s*(?:&&|\bAND\b)\s*/i).map((part) => {
    const match = CLAUSE.exec(part.trim());
    if (!match) throw queryParse(`The where clause "${part.trim()}" is not one the sandbox understands (Field=="value", Field=guid("…"), Field==true).`);
    const [, path = '', text, id, bool] = match;
    if (id !== undefined) return { path, value: { kind: 'guid', text: id.toLowerCase() } };
    if (bool !== undefined) return { path, value: { kind: 'boolean', text: bool.toLowerCase() } };
    return { path, value: { kind: 'string', text: text ?? '' } };
  });
}

function valueAt(item: XeroObject, path: string): unknown {
  let value: unknown = item;
  for (const key of path.split('.')) {
    value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

function matches(value: unknown, expected: Clause['value']): boolean {
  if (expected.kind === 'guid') return typeof value === 'string' && value.toLowerCase() === expected.text;
  if (expected.kind === 'boolean') return typeof value === 'boolean' && String(value) === expected.text;
  return typeof value === 'string' && value === expected.text;
}

function parseOrder(order: string | null, sample: XeroObject | undefined): { field: string; direction: 1 | -1 } | null {
  if (order === null || order.trim() === '') return null;
  const match = /^([A-Za-z]\w*)(?:\s+(ASC|DESC))?$/i.exec(order.trim());
  if (!match?.[1] || (sample !== undefined && !(match[1] in sample))) throw queryParse(`Cannot order by "${order}".`);
  return { field: match[1], direction: match[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
}

/** Xero dates compare by their milliseconds, everything else by value. */
function compare(a: XeroObject, b: XeroObject, field: string): number {
  const key = (item: XeroObject): string | number => {
    const value = valueAt(item, field);
    const date = typeof value === 'string' ? /^\/Date\((-?\d+)/.exec(value) : null;
    if (date?.[1]) return Number(date[1]);
    return typeof value === 'number' ? value : String(value ?? '');
  };
  const x = key(a);
  const y = key(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
