// How every command ends: its own exit code, 64 for bad options (with the usage), 78 for bad
// configuration, 1 for anything else; never an unhandled rejection.
import { ConfigError } from '../config.js';

function isBadOption(error: unknown): error is TypeError {
  return error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
}

export function runCommand(main: () => Promise<number>, usage?: string): void {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (usage !== undefined && isBadOption(error)) {
        console.error(`${error.message}\n${usage}`);
        process.exit(64);
      }
      console.error(error instanceof ConfigError ? `cannot start: ${error.message}` : error);
      process.exit(error instanceof ConfigError ? 78 : 1);
    },
  );
}
