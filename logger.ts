// Linkflow's log, on pino: one JSON object a line in production (`LINKFLOW_LOG_FORMAT=json`, the
// default), readable single lines in a terminal (`pretty`, what `npm start` uses) through
// pino-pretty. Every line names its `component`; fields that may hold secrets are redacted by
// name (REDACTED_FIELDS, in pino's log formatter), whatever a caller passes. Never pass secrets knowingly.
import { Writable } from 'node:stream';
import pino from 'pino';
import pretty from 'pino-pretty';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** `json`: one object a line (level, time, component, msg, fields); `pretty`: `time LEVEL: [component] msg {fields}`. */
export type LogFormat = 'json' | 'pretty';

/**
 * Field names whose values never reach the log, wherever they are in a line's fields (up to
 * REDACT_DEPTH levels down: `headers.authorization`, `request.headers.Authorization`), in any
 * letter case and spelling (`api_key`, `apiKey`, `API-Key`): credentials, tokens, keys and cookies.
 * Any name ending in `token`, `secret` or `password` (`access_token`, `clientSecret`) is one too.
 */
export const REDACTED_FIELDS = ['authorization', 'cookie', 'set-cookie', 'password', 'credentials', 'answers', 'token', 'secret', 'apiKey', 'api_key', 'privateKey'];
/** A field name as compared: lower case, without `-` and `_`. */
const normalized = (name: string): string => name.toLowerCase().replace(/[-_]/g, '');
const SECRET_NAMES = new Set(REDACTED_FIELDS.map(normalized));
const isSecretName = (name: string): boolean => {
  const key = normalized(name);
  return SECRET_NAMES.has(key) || /(token|secret|password)$/.test(key);
};
const REDACT_DEPTH = 6;
const CENSOR = '[redacted]';

/** A copy of `value` with every secret-named field's value replaced by CENSOR (the caller's object is left alone). */
function redact(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > REDACT_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (value instanceof Error || value instanceof Date || Buffer.isBuffer(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, isSecretName(key) ? CENSOR : redact(item, depth + 1)]));
}

/** The format of this process: LINKFLOW_LOG_FORMAT (validated by config.ts), else JSON. */
export const processLogFormat = (): LogFormat => (process.env.LINKFLOW_LOG_FORMAT === 'pretty' ? 'pretty' : 'json');

/**
 * A logger for one component. `sink` receives each line without its newline (tests keep them);
 * without one, lines go to stderr.
 */
export function createLogger(component: string, sink?: (line: string) => void, format: LogFormat = processLogFormat()): Logger {
  const out: pino.DestinationStream | Writable = sink
    ? new Writable({
        write(chunk: Buffer | string, _encoding, done) {
          for (const line of String(chunk).split('\n')) if (line !== '') sink(line);
          done();
        },
      })
    : pino.destination({ fd: 2, sync: true });
  const stream =
    format === 'pretty'
      ? pretty({
          destination: out,
          sync: true,
          colorize: false,
          singleLine: true,
          translateTime: "UTC:yyyy-mm-dd'T'HH:MM:ss.l'Z'",
          ignore: 'pid,hostname,component',
          messageFormat: '[{component}] {msg}',
        })
      : (out as pino.DestinationStream);
  const logger = pino(
    {
      base: { component },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Redaction by field name, any case, any depth (pino's own `redact` takes exact paths only).
      formatters: { level: (label) => ({ level: label }), log: (fields) => redact(fields, 0) as Record<string, unknown> },
    },
    stream,
  );
  const write = (level: 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
    fields ? logger[level](fields, message) : logger[level](message);
  return { info: write('info'), warn: write('warn'), error: write('error') };
}
