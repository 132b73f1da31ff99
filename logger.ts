// Plain, greppable log lines: `time level [component] message {fields}`. Never pass secrets in fields.
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export function createLogger(component: string, sink: (line: string) => void = (line) => process.stderr.write(line + '\n')): Logger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    sink(`${new Date().toISOString()} ${level} [${component}] ${message}${fields ? ' ' + JSON.stringify(fields) : ''}`);
  return { info: write('INFO'), warn: write('WARN'), error: write('ERROR') };
}
