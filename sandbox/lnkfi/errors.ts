import { SandboxError } from '../shared/errors';

/**
 * An error LnkFi answers as `{"error": "<code>", "message": "<text>"}` with an HTTP status (the
 * reference shows no error body; this is the shape the sandbox chose, see README).
 */
export class LnkfiError extends SandboxError {
  override readonly name = 'LnkfiError';
}
