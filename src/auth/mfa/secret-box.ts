// The TOTP secrets at rest: AES-256-GCM under MFA_ENCRYPTION_KEY, with a fresh nonce each time
// and the user id as associated data, so a row copied to another user does not decrypt. The
// stored text names its key, so that MFA_PREVIOUS_ENCRYPTION_KEYS still open older rows.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const FORMAT = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A short public name for a key: a hash of it, never the key itself. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update('tessera-mfa-key-id\0').update(key).digest('base64url').slice(0, 12);
}

export interface OpenedSecret {
  readonly plaintext: Buffer;
  /** False when a previous key opened it: the caller re-seals it under the current key. */
  readonly underCurrentKey: boolean;
}

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export class SecretBox {
  private readonly currentKeyId: string;
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(currentKey: Buffer, previousKeys: readonly Buffer[] = []) {
    this.currentKeyId = keyIdOf(currentKey);
    const keys = new Map<string, Buffer>();
    for (const key of previousKeys) keys.set(keyIdOf(key), key);
    keys.set(this.currentKeyId, currentKey);
    this.keys = keys;
  }

  /** `v1.<key id>.<nonce>.<ciphertext>.<tag>`, base64url parts. */
  seal(plaintext: Buffer, userId: string): string {
    const key = this.keys.get(this.currentKeyId)!;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(associatedData(userId));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const parts = [nonce, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url'));
    return [FORMAT, this.currentKeyId, ...parts].join('.');
  }

  /** The plaintext, or SecretBoxError when the key is unknown, the text altered, or the user another. */
  open(stored: string, userId: string): OpenedSecret {
    const [format, keyId, nonce, ciphertext, tag, ...rest] = stored.split('.');
    if (format !== FORMAT || !keyId || nonce === undefined || ciphertext === undefined || !tag || rest.length > 0) {
      throw new SecretBoxError('not a sealed secret');
    }
    const key = this.keys.get(keyId);
    if (!key) throw new SecretBoxError('sealed under a key that is no longer configured');
    const tagBytes = Buffer.from(tag, 'base64url');
    const nonceBytes = Buffer.from(nonce, 'base64url');
    if (tagBytes.length !== TAG_BYTES || nonceBytes.length !== NONCE_BYTES) throw new SecretBoxError('malformed');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonceBytes, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(userId));
      decipher.setAuthTag(tagBytes);
      const plaintext = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]);
      return { plaintext, underCurrentKey: keyId === this.currentKeyId };
    } catch {
      throw new SecretBoxError('does not open: altered, or sealed for another user');
    }
  }
}

function associatedData(userId: string): Buffer {
  return Buffer.from(`totp-secret:${userId}`, 'utf8');
}
