import { SandboxError } from '../shared/errors';

/**
 * An error answered in Flinks' own shape, `{HttpStatusCode, FlinksCode, Message}` (plus the
 * `RequestId` it concerns, when there is one), with the same HTTP status. `code` is the FlinksCode.
 */
export class FlinksError extends SandboxError {
  override readonly name = 'FlinksError';

  constructor(
    status: number,
    flinksCode: string,
    description: string,
    readonly requestId?: string,
  ) {
    super(status, flinksCode, description);
  }

  body(): Record<string, unknown> {
    return {
      HttpStatusCode: this.status,
      FlinksCode: this.code,
      Message: this.description,
      ...(this.requestId === undefined ? {} : { RequestId: this.requestId }),
    };
  }
}
