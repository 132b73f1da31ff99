// Seeded "random" data for the sandboxes: every value is a pure function of a seed string
// (SHA-256 of it), so the same ids and day always give the same accounts and transactions,
// across restarts, and tests can predict them.
import { createHash } from 'node:crypto';

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;

/** Midnight UTC (epoch ms) of the day `ms` falls in; right for times before 1970 too. */
export const startOfDay = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

const sha256 = (seed: string): Buffer => createHash('sha256').update(seed).digest();

/** A whole number in [0, 2^32) that depends only on `seed`. */
export const uint32From = (seed: string): number => sha256(seed).readUInt32BE(0);

/** A number in [0, 1) that depends only on `seed`. */
export const unit = (seed: string): number => uint32From(seed) / 2 ** 32;

/** An integer in [min, max] (both included) that depends only on `seed`. */
export const intBetween = (seed: string, min: number, max: number): number => min + Math.floor(unit(seed) * (max - min + 1));

/** One of `items`, chosen by `seed`; throws on an empty list. */
export function pick<T>(seed: string, items: readonly T[]): T {
  const item = items[Math.floor(unit(seed) * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

/** `length` decimal digits (leading zeros kept) that depend only on `seed`. */
export function digits(seed: string, length: number): string {
  let out = '';
  for (let i = 0; out.length < length; i += 1) out += uint32From(`${seed}#${i}`).toString().padStart(10, '0');
  return out.slice(0, length);
}

/** A GUID, 8-4-4-4-12 lowercase hex, from `seed` (a .NET GUID: not necessarily an RFC 4122 UUID). */
export function guidFrom(seed: string): string {
  const hex = sha256(seed).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** An RFC 4122 version-4-shaped UUID (`…-4xxx-axxx-…`) from `seed`. */
export function uuidV4From(seed: string): string {
  const hex = sha256(seed).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * A French IBAN with valid check digits, from a 5-digit bank code, 5-digit branch code and
 * 11-digit account number (the RIB key is computed; "FR00" is moved to the end, F=15, R=27).
 */
export function frenchIban(bankCode: string, branchCode: string, accountNumber: string): string {
  const ribKey = 97n - ((89n * BigInt(bankCode) + 15n * BigInt(branchCode) + 3n * BigInt(accountNumber)) % 97n);
  const bban = `${bankCode}${branchCode}${accountNumber}${ribKey.toString().padStart(2, '0')}`;
  const check = 98n - (BigInt(`${bban}152700`) % 97n);
  return `FR${check.toString().padStart(2, '0')}${bban}`;
}
