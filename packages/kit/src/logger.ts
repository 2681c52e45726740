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
  const destination = pino.destination({ dest: 1, sync: true });
  // A stdout that went away (the parent process died: a closed pipe) must not crash the process
  // with an unhandled write error while it shuts down; those lines have nowhere to go.
  destination.on('error', () => {});
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
    destination,
  );
}
