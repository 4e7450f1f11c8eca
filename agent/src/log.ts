/**
 * The agent's logger: one JSON object per line on stderr. The agent keeps its runtime dependencies to the NATS
 * client and @baton/shared, so this small writer stands in for pino with the same line format.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVEL_NUMBER: Record<Level, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export interface AgentLogger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}

export function createLogger(name: string, minLevel: Level | 'silent' = 'info'): AgentLogger {
  const write = (level: Level) => (fields: object, msg: string) => {
    if (minLevel === 'silent' || LEVEL_NUMBER[level] < LEVEL_NUMBER[minLevel]) return;
    process.stderr.write(JSON.stringify({ level: LEVEL_NUMBER[level], time: Date.now(), name, ...fields, msg }) + '\n');
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
