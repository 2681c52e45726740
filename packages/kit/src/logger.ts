import { type Logger, pino } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: string;
  /** The process: `server`, `sfu`. */
  name: string;
}

/**
 * Structured JSON logs on stdout; one child per module (`logger.child({ module: 'identity' })`).
 * Written synchronously: a line is out before the call returns, so the start-up banner printed after
 * the start-up lines really comes after them, and the last lines before an exit are not lost. (With
 * request logs off by default, a process writes few lines.)
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.token',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
