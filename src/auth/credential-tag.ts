// What a device token carries of the password it was issued under: the first 128 bits of the
// SHA-256 of the stored argon2 hash (salted, so equal passwords give different tags). The login
// statement computes it in SQL, so both forms live here and change together.
import { createHash } from 'node:crypto';

export const CREDENTIAL_TAG = /^[0-9a-f]{32}$/;

export function credentialTag(passwordHash: string): string {
  return createHash('sha256').update(passwordHash, 'utf8').digest('hex').slice(0, 32);
}

/** credentialTag of the hash in `column`, as an SQL expression. */
export function credentialTagSql(column: string): string {
  return `left(encode(sha256(convert_to(${column}, 'UTF8')), 'hex'), 32)`;
}
