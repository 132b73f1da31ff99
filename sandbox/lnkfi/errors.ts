/**
 * An error LnkFi answers as `{"error": "<code>", "message": "<text>"}` with an HTTP status (the
 * reference shows no error body; this is the shape the sandbox chose, see README).
 */
export class LnkfiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${status} ${code}: ${description}`);
    this.name = 'LnkfiError';
  }
}
