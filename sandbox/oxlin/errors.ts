import { SandboxError } from '../shared/errors';

/** An error answered as `{error, error_description}` with an HTTP status (and its headers). */
export class ApiError extends SandboxError {
  override readonly name = 'ApiError';
}
