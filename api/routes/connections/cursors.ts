import type { StateSigner } from '../../../domain/redirect-state';

/** A change number as the store writes it (a bigint sequence; "0": nothing read yet). */
const SEQ = /^(0|[1-9][0-9]{0,18})$/;

/**
 * The cursors of a connection's transaction routes, sealed with the server secret (HMAC-SHA256,
 * api's StateSigner) together with the connection they page: another connection's cursor, a
 * forged one or one from before cursors were bound (`changes:<n>`, a bare list position) is not
 * one of these, and the route answers 400 `invalid_cursor` instead of reading from wherever it points.
 * - delta (GET …/transactions/sync): `["changes", connectionId, lastChangeSeq]`;
 * - list (GET …/transactions): `["transactions", connectionId, <the repository's list position>]`.
 */
export function createCursors(signer: StateSigner) {
  const open = (kind: string, connectionId: string, cursor: string): string | null => {
    const payload = signer.unseal(cursor);
    if (payload === null) return null;
    try {
      const value: unknown = JSON.parse(payload);
      if (!Array.isArray(value) || value.length !== 3 || value[0] !== kind || value[1] !== connectionId) return null;
      return typeof value[2] === 'string' ? value[2] : null;
    } catch {
      return null;
    }
  };
  return {
    encodeChanges: (connectionId: string, seq: string): string => signer.seal(JSON.stringify(['changes', connectionId, seq])),
    /** The change number after which to read, or null when the cursor is not this connection's. */
    decodeChanges(connectionId: string, cursor: string): string | null {
      const seq = open('changes', connectionId, cursor);
      return seq !== null && SEQ.test(seq) ? seq : null;
    },
    encodeList: (connectionId: string, position: string): string => signer.seal(JSON.stringify(['transactions', connectionId, position])),
    /** The repository's list position, or null when the cursor is not this connection's. */
    decodeList: (connectionId: string, cursor: string): string | null => open('transactions', connectionId, cursor),
  };
}
