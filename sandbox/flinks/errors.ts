/**
 * An error answered in Flinks' own shape, `{HttpStatusCode, FlinksCode, Message}` (plus the
 * `RequestId` it concerns, when there is one), with the same HTTP status.
 */
export class FlinksError extends Error {
  constructor(
    readonly status: number,
    readonly flinksCode: string,
    readonly description: string,
    readonly requestId?: string,
  ) {
    super(`${status} ${flinksCode}: ${description}`);
    this.name = 'FlinksError';
  }

  body(): Record<string, unknown> {
    return {
      HttpStatusCode: this.status,
      FlinksCode: this.flinksCode,
      Message: this.description,
      ...(this.requestId === undefined ? {} : { RequestId: this.requestId }),
    };
  }
}
