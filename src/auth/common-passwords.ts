// The 10,000 most common passwords, from zxcvbn-ts's frequency-ranked list (a well-kept npm
// package, so the list is not copied into this repository). NIST SP 800-63B §3.1.1.2 asks for
// exactly this check instead of composition rules.
import { dictionary } from '@zxcvbn-ts/language-common';

export const COMMON_PASSWORD_COUNT = 10_000;

let common: ReadonlySet<string> | undefined;

/** Case-insensitive: "Password1" is as guessable as "password1". Built on first use. */
export function isCommonPassword(password: string): boolean {
  common ??= new Set(
    dictionary['passwords-common'].slice(0, COMMON_PASSWORD_COUNT).map((entry) => entry.toLowerCase()),
  );
  return common.has(password.toLowerCase());
}
