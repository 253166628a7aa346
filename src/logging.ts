import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs on stdout. Request bodies are never logged (they carry whole Pods), and
 * the redaction paths keep tokens and keys out should an error object carry them.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { name: 'sysctl-extender' },
    redact: {
      paths: ['*.token', '*.password', '*.authorization', '*.headers.authorization', '*.key', '*.cert'],
      censor: '[redacted]',
    },
  });
}
