// Linkflow's log, on pino: one JSON object a line in production (`LINKFLOW_LOG_FORMAT=json`, the
// default), readable single lines in a terminal (`pretty`, what `npm start` uses) through
// pino-pretty. Every line names its `component`; fields that may hold secrets are redacted by
// pino's own redaction (REDACTED_FIELDS), whatever a caller passes. Never pass secrets knowingly.
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
 * Field names whose values never reach the log, at the top level of a line's fields or one level
 * down (`headers.authorization`): credentials, tokens, keys and cookies.
 */
export const REDACTED_FIELDS = ['authorization', 'cookie', 'set-cookie', 'password', 'credentials', 'answers', 'token', 'secret', 'apiKey', 'api_key', 'privateKey'];
const REDACT_PATHS = REDACTED_FIELDS.flatMap((name) => [`["${name}"]`, `*["${name}"]`]);

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
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  const write = (level: 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
    fields ? logger[level](fields, message) : logger[level](message);
  return { info: write('info'), warn: write('warn'), error: write('error') };
}
