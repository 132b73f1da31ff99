/** An error answered as `{error, error_description}` with an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${status} ${code}: ${description}`);
    this.name = 'ApiError';
  }
}
