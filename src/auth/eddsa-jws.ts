// EdDSA (Ed25519) compact JWS with node:crypto, which jsonwebtoken does not support. Only the
// signature is handled here; tokens.ts applies the same pinned header and claim checks to every
// algorithm.
import { sign, verify, type KeyObject } from 'node:crypto';

const ED25519_SIGNATURE_BYTES = 64;

export function signEdDsa(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const signingInput = `${encode(header)}.${encode(payload)}`;
  return `${signingInput}.${sign(null, Buffer.from(signingInput), key).toString('base64url')}`;
}

/** Whether `token` (already checked to be three base64url segments) carries a valid signature by `key`. */
export function hasValidEdDsaSignature(token: string, key: KeyObject): boolean {
  const dot = token.lastIndexOf('.');
  const encoded = token.slice(dot + 1);
  const signature = Buffer.from(encoded, 'base64url');
  // Only the one canonical encoding of exactly 64 bytes: no malleable variants of a signature.
  if (signature.length !== ED25519_SIGNATURE_BYTES || signature.toString('base64url') !== encoded) return false;
  return verify(null, Buffer.from(token.slice(0, dot)), key, signature);
}

function encode(part: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(part)).toString('base64url');
}
