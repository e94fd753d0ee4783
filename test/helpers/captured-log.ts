// A logger whose lines the test reads back, parsed: for what Tessera says (and must not say).
import { pino, type Logger } from 'pino';

export interface CapturedLog {
  readonly logger: Logger;
  /** Every line so far, parsed. */
  readonly entries: readonly Record<string, unknown>[];
  /** Every line so far, as written. */
  text(): string;
}

export function captureLog(level: pino.LevelWithSilent = 'info'): CapturedLog {
  const lines: string[] = [];
  const entries: Record<string, unknown>[] = [];
  const logger = pino(
    { level },
    {
      write: (line: string) => {
        lines.push(line);
        entries.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, entries, text: () => lines.join('') };
}
