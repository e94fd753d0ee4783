// The key set: the key that signs, and the previous keys that still verify until the tokens they
// signed have expired, each named by its kid. Verification looks a token's kid up among these
// keys only (RFC 8725 §3.10): nothing in a token chooses or supplies a key.
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  type KeyObject,
} from 'node:crypto';
import type { JwtAlgorithm, JwtKeys } from '../config.js';

/** A public key as a JWKS publishes it (RFC 7517), with its kid and algorithm. */
export interface PublicJwk {
  readonly kid: string;
  readonly kty: string;
  readonly alg: string;
  readonly use: 'sig';
  readonly [parameter: string]: string;
}

/** RFC 7638 §3.2: the required members of each key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
};

function publicMembers(publicKey: KeyObject): Record<string, string> {
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const members = THUMBPRINT_MEMBERS[jwk.kty];
  if (!members) throw new Error(`a ${jwk.kty} key cannot be published in a JWKS`);
  return Object.fromEntries(members.map((member) => [member, jwk[member]]));
}

/** The RFC 7638 JWK thumbprint (SHA-256, base64url) of a public key. */
export function jwkThumbprint(publicKey: KeyObject): string {
  return thumbprintOf(publicMembers(publicKey));
}

function thumbprintOf(members: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/**
 * An HMAC key's kid: an HMAC under the key itself, so that testing a guessed secret against the
 * kid costs what testing it against any token would.
 */
export function secretKid(secret: Buffer): string {
  return createHmac('sha256', secret).update('tessera kid').digest('base64url').slice(0, 22);
}

export class KeySet {
  readonly algorithm: JwtAlgorithm;
  readonly signingKid: string;
  readonly signingKey: KeyObject;
  private readonly verifying = new Map<string, KeyObject>();
  private readonly published: PublicJwk[] = [];

  constructor(keys: JwtKeys) {
    this.algorithm = keys.algorithm;
    if (keys.algorithm === 'HS256') {
      this.signingKey = createSecretKey(keys.secret);
      this.signingKid = secretKid(keys.secret);
      this.verifying.set(this.signingKid, this.signingKey);
      for (const secret of keys.previousSecrets) this.add(secretKid(secret), createSecretKey(secret));
      return;
    }
    this.signingKey = createPrivateKey(keys.privateKeyPem);
    this.signingKid = this.addPublic(createPublicKey(this.signingKey), keys.algorithm);
    for (const pem of keys.previousPublicKeyPems) this.addPublic(createPublicKey(pem), keys.algorithm);
  }

  /** The configured key a token's kid names, or undefined: then the token is refused. */
  verificationKey(kid: unknown): KeyObject | undefined {
    return typeof kid === 'string' ? this.verifying.get(kid) : undefined;
  }

  /** The public keys, signing key first; empty with HS256, whose keys are secrets. */
  get publicKeys(): readonly PublicJwk[] {
    return this.published;
  }

  /** A previous key that is the signing key again, or listed twice, is kept once. */
  private add(kid: string, key: KeyObject): boolean {
    if (this.verifying.has(kid)) return false;
    this.verifying.set(kid, key);
    return true;
  }

  /** Adds a public key for verification and to the JWKS; returns its kid. */
  private addPublic(publicKey: KeyObject, alg: JwtAlgorithm): string {
    const members = publicMembers(publicKey);
    const kid = thumbprintOf(members);
    if (this.add(kid, publicKey)) this.published.push({ ...members, kid, alg, use: 'sig' } as PublicJwk);
    return kid;
  }
}
