// The hostile-token rows about which key verifies a token: only a configured key of the configured
// algorithm, found by its kid, and never one the token names, carries or points at.
import { AuthFailure } from '../../src/auth/auth-error.js';
import type { AsymmetricAlgorithm } from '../../src/config.js';
import {
  attacker,
  attackerJwk,
  attackerKid,
  craft,
  replaceSignature,
  type HostileRow,
  type Kind,
  type TokenTarget,
} from './hostile-token-craft.js';
import type { AttackTargets, RowContext } from './hostile-tokens.js';

const INVALID = AuthFailure.TOKEN_INVALID;

/**
 * The rows about which key verifies: a kid that names another algorithm's key, a token of another
 * algorithm, a public key's bytes as an HMAC secret (key confusion), a key the token carries or
 * points at, and EdDSA's own signature encoding. Only configured keys of the configured algorithm verify.
 */
export function keyChoiceRows<T extends TokenTarget>(
  context: RowContext<T>,
  targets: AttackTargets<T>,
): HostileRow<T>[] {
  const { kind, noun, c, genuine } = context;
  const { hs, rs, es, ed, attackerUrls } = targets;
  const rows: HostileRow<T>[] = [
    {
      name: `an HS256 ${noun} signed with the right secret whose kid is the RS256 key's`,
      target: hs,
      token: () => c(hs, { header: { kid: rs.kid } }),
      reason: INVALID,
    },
    {
      name: `an RS256 ${noun} signed with the RS256 key and carrying its kid when HS256 is configured`,
      target: hs,
      token: () => c(hs, { header: { alg: 'RS256', kid: rs.kid }, key: rs.key }),
      reason: INVALID,
    },
    {
      name: `an HS256 ${noun} keyed with the RS256 public key PEM and carrying the HS256 kid when RS256 is configured`,
      target: rs,
      token: () => c(rs, { header: { alg: 'HS256', kid: hs.kid }, key: rs.publicKeyPem }),
      reason: INVALID,
    },
    ...attackerKeyRows(kind, rs, 'RS256', noun, attackerUrls),
  ];
  if (es) {
    rows.push(
      {
        name: `an ES256 ${noun} signed with the configured key whose kid is the RS256 key's`,
        target: es,
        token: () => c(es, { header: { kid: rs.kid } }),
        reason: INVALID,
      },
      {
        name: `an RS256 ${noun} signed with the RS256 key and carrying its kid when ES256 is configured`,
        target: es,
        token: () => c(es, { header: { alg: 'RS256', kid: rs.kid }, key: rs.key }),
        reason: INVALID,
      },
      {
        name: `an HS256 ${noun} keyed with the ES256 public key PEM when ES256 is configured`,
        target: es,
        token: () => c(es, { header: { alg: 'HS256' }, key: es.publicKeyPem }),
        reason: INVALID,
      },
      {
        name: `an EdDSA ${noun} signed with an Ed25519 key and carrying its kid when ES256 is configured`,
        target: es,
        token: () =>
          c(es, { header: { alg: 'EdDSA', kid: ed?.kid ?? attackerKid.EdDSA }, key: ed?.key ?? attacker.EdDSA }),
        reason: INVALID,
      },
      {
        name: `an EdDSA ${noun} carrying the configured ES256 kid when ES256 is configured`,
        target: es,
        token: () => c(es, { header: { alg: 'EdDSA' }, key: ed?.key ?? attacker.EdDSA }),
        reason: INVALID,
      },
      ...attackerKeyRows(kind, es, 'ES256', noun, attackerUrls),
    );
  }
  if (ed) {
    rows.push(
      {
        name: `an ES256 ${noun} when EdDSA is configured`,
        target: ed,
        token: () => c(ed, { header: { alg: 'ES256', kid: es?.kid ?? ed.kid }, key: es?.key ?? attacker.ES256 }),
        reason: INVALID,
      },
      {
        name: `an RS256 ${noun} when EdDSA is configured`,
        target: ed,
        token: () => c(ed, { header: { alg: 'RS256' }, key: rs.key }),
        reason: INVALID,
      },
      {
        name: `an HS256 ${noun} keyed with the Ed25519 public key PEM when EdDSA is configured`,
        target: ed,
        token: () => c(ed, { header: { alg: 'HS256' }, key: ed.publicKeyPem }),
        reason: INVALID,
      },
      {
        name: `an HS256 ${noun} declaring EdDSA in its header, keyed with the Ed25519 public key PEM`,
        target: ed,
        token: () => c(ed, { signAlgorithm: 'HS256', key: ed.publicKeyPem }),
        reason: INVALID,
      },
      {
        name: `a ${noun} whose alg is "Ed25519" (RFC 9864's name) signed with the configured key when EdDSA is configured`,
        target: ed,
        token: () => c(ed, { header: { alg: 'Ed25519' } }),
        reason: INVALID,
      },
      {
        name: `an EdDSA ${noun} signed with the configured key whose kid is the RS256 key's`,
        target: ed,
        token: () => c(ed, { header: { kid: rs.kid } }),
        reason: INVALID,
      },
      // The same 64 bytes, or the same equation, written another way: a verifier must accept one form only.
      {
        name: `a genuine EdDSA ${noun} whose signature is encoded with non-zero trailing bits`,
        target: ed,
        token: () => withNonCanonicalEnding(genuine(ed)),
        reason: INVALID,
      },
      {
        name: `a genuine EdDSA ${noun} whose signature's S was raised by the group order (S >= L)`,
        target: ed,
        token: () => editSignature(genuine(ed), withSRaisedByOrder),
        reason: INVALID,
      },
      {
        name: `a genuine EdDSA ${noun} with a byte appended to its signature`,
        target: ed,
        token: () => editSignature(genuine(ed), (signature) => Buffer.concat([signature, Buffer.from([0])])),
        reason: INVALID,
      },
      {
        name: `an EdDSA ${noun} whose signature is 64 zero bytes`,
        target: ed,
        token: () => editSignature(genuine(ed), () => Buffer.alloc(64)),
        reason: INVALID,
      },
      ...attackerKeyRows(kind, ed, 'EdDSA', noun, attackerUrls),
    );
  }
  return rows;
}

/** Ed25519's group order L (RFC 8032 §5.1): a signature's S must be below it. */
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function editSignature(token: string, edit: (signature: Buffer) => Buffer): string {
  const signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
  return replaceSignature(token, edit(signature).toString('base64url'));
}

/** S + L still satisfies the verification equation; RFC 8032 §5.1.7 refuses it. */
function withSRaisedByOrder(signature: Buffer): Buffer {
  const s = BigInt(`0x${Buffer.from(signature.subarray(32)).reverse().toString('hex')}`);
  const raised = Buffer.from((s + ED25519_ORDER).toString(16).padStart(64, '0'), 'hex').reverse();
  return Buffer.concat([signature.subarray(0, 32), raised]);
}

/** 64 bytes take 86 characters whose last holds 4 unused bits: set one, the bytes decoded stay the same. */
function withNonCanonicalEnding(token: string): string {
  const last = BASE64URL_ALPHABET.indexOf(token.slice(-1));
  return `${token.slice(0, -1)}${BASE64URL_ALPHABET[last | 1]}`;
}

/** Tokens signed with an attacker's key that they point at, or carry: the key is never taken from the token. */
export function attackerKeyRows<T extends TokenTarget>(
  kind: Kind,
  target: T,
  algorithm: AsymmetricAlgorithm,
  noun: string,
  urls: { jku?: string; x5u?: string } = {},
): HostileRow<T>[] {
  const c = (header: Record<string, unknown>) => craft(target, { kind, header, key: attacker[algorithm] });
  return [
    {
      name: `a ${noun} signed with an attacker ${algorithm} key that it carries in a jwk header`,
      target,
      token: () => c({ jwk: attackerJwk[algorithm] }),
      reason: INVALID,
    },
    {
      name: `a ${noun} signed with an attacker ${algorithm} key that it carries in a jwk header, with that key's kid`,
      target,
      token: () => c({ jwk: attackerJwk[algorithm], kid: attackerKid[algorithm] }),
      reason: INVALID,
    },
    {
      name: `a ${noun} signed with an attacker ${algorithm} key that its jku header points at`,
      target,
      token: () => c({ jku: urls.jku ?? 'https://attacker.example/jwks.json' }),
      reason: INVALID,
    },
    {
      name: `a ${noun} signed with an attacker ${algorithm} key that its x5u header points at`,
      target,
      token: () => c({ x5u: urls.x5u ?? 'https://attacker.example/cert.pem' }),
      reason: INVALID,
    },
  ];
}
