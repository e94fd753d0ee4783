import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * JSON lines on stdout. Request bodies and headers are never logged as a whole: they carry
 * passwords and tokens. The redaction below is a second line of defence for objects that do.
 */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    redact: {
      paths: [
        'password',
        '*.password',
        '*.currentPassword',
        '*.newPassword',
        'accessToken',
        'refreshToken',
        'deviceToken',
        '*.accessToken',
        '*.refreshToken',
        '*.deviceToken',
        // A mailed link's token (the development .eml mode logs the whole link, on purpose).
        'token',
        '*.token',
        'smtpUrl',
        '*.smtpUrl',
        'authorization',
        '*.authorization',
        'headers.authorization',
      ],
      censor: '[redacted]',
    },
  });
}
