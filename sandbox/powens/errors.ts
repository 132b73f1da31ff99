/**
 * An error answered as Powens does: `{code, message, description?}` with an HTTP status. `code` is
 * one of Powens' error codes (`wrongpass`, …) or one this sandbox chose where the API is silent
 * (see README: Errors).
 */
export class PowensApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly description?: string,
  ) {
    super(message);
    this.name = 'PowensApiError';
  }
}

export const invalidValue = (message: string): PowensApiError => new PowensApiError(400, 'invalidValue', message);
export const notFound = (message: string): PowensApiError => new PowensApiError(404, 'notFound', message);
export const unauthorized = (message: string): PowensApiError => new PowensApiError(401, 'unauthorized', message);
