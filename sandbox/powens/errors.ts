import { SandboxError } from '../shared/errors';

/**
 * An error answered as Powens does: `{code, message, description?}` with an HTTP status. `code` is
 * one of Powens' error codes (`wrongpass`, …) or one this sandbox chose where the API is silent
 * (see README: Errors); `description` is the `message` field, `detail` the optional `description`.
 */
export class PowensApiError extends SandboxError {
  override readonly name = 'PowensApiError';

  constructor(
    status: number,
    code: string,
    message: string,
    readonly detail?: string,
  ) {
    super(status, code, message);
  }
}

export const invalidValue = (message: string): PowensApiError => new PowensApiError(400, 'invalidValue', message);
export const notFound = (message: string): PowensApiError => new PowensApiError(404, 'notFound', message);
export const unauthorized = (message: string): PowensApiError => new PowensApiError(401, 'unauthorized', message);
