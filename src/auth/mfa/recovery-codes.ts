// Recovery codes: 10 single-use codes of 50 random bits each, shown once as `xxxxx-xxxxx`
// (base32). Only an HMAC-SHA-256 of each is kept, under a key derived from the MFA key, so a
// copy of the table alone cannot be tried offline; the previous keys are tried too (rotation).
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { RecoveryCode } from '../../db/entities/index.js';

export const RECOVERY_CODE_COUNT = 10;
const CODE_CHARS = 10;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Case, spaces and dashes do not matter when a code is typed back. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

function newRecoveryCode(): string {
  // 10 characters of 5 bits each, from 50 random bits.
  const bytes = randomBytes(7);
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let text = '';
  for (let index = 0; index < CODE_CHARS; index += 1) {
    text += BASE32[Number((bits >> BigInt(index * 5)) & 31n)];
  }
  return `${text.slice(0, 5)}-${text.slice(5)}`;
}

function hashKeyOf(mfaKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', mfaKey, Buffer.alloc(0), 'tessera recovery codes', 32));
}

export class RecoveryCodes {
  private readonly currentKey: Buffer;
  private readonly allKeys: readonly Buffer[];

  constructor(currentKey: Buffer, previousKeys: readonly Buffer[] = []) {
    this.currentKey = hashKeyOf(currentKey);
    this.allKeys = [this.currentKey, ...previousKeys.map(hashKeyOf)];
  }

  /** Replaces every code of the user with 10 new ones, in the caller's transaction; returns them in clear, once. */
  async replaceAll(tx: EntityManager, userId: string): Promise<string[]> {
    await tx.nativeDelete(RecoveryCode, { user: userId });
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    for (const code of codes) {
      tx.persist(tx.create(RecoveryCode, { user: userId, codeHash: this.hash(this.currentKey, code) }));
    }
    await tx.flush();
    return codes;
  }

  /** Spends the code if it is one of the user's unused ones; a conditional update, so two uses cannot both win. */
  async consume(em: EntityManager, userId: string, code: string): Promise<boolean> {
    const normalized = normalizeRecoveryCode(code);
    if (!/^[a-z2-7]{10}$/.test(normalized)) return false;
    const hashes = this.allKeys.map((key) => this.hash(key, normalized));
    const spent = await em.nativeUpdate(
      RecoveryCode,
      { user: userId, codeHash: { $in: hashes }, usedAt: null },
      { usedAt: new Date() },
    );
    return spent > 0;
  }

  /** How many unused codes the user has left. */
  async remaining(em: EntityManager, userId: string): Promise<number> {
    return em.count(RecoveryCode, { user: userId, usedAt: null });
  }

  async removeAll(tx: EntityManager, userId: string): Promise<void> {
    await tx.nativeDelete(RecoveryCode, { user: userId });
  }

  private hash(key: Buffer, code: string): string {
    return createHmac('sha256', key).update(normalizeRecoveryCode(code)).digest('hex');
  }
}
