// The key set: kids are RFC 7638 thumbprints (checked against jose, an implementation nobody here
// wrote), only public parameters are published, and a token verifies only under a configured key
// its kid names: the signing key or a previous one.
import { createPublicKey, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, importSPKI, jwtVerify, type JWK } from 'jose';
import { AuthError, AuthFailure } from '../../src/auth/auth-error.js';
import { jwkThumbprint, KeySet, secretKid } from '../../src/auth/keys.js';
import { TokenService } from '../../src/auth/tokens.js';
import {
  ConfigError,
  generatePrivateKeyPem,
  loadConfig,
  type AsymmetricAlgorithm,
  type Env,
} from '../../src/config.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'tessera-keys-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const ASYMMETRIC: AsymmetricAlgorithm[] = ['ES256', 'RS256', 'PS256', 'EdDSA'];
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

function env(overrides: Env): Env {
  return {
    NODE_ENV: 'test',
    TESSERA_DATA_DIR: dataDir,
    JWT_SECRET_KEY: undefined,
    MFA_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
    ...overrides,
  };
}

function publicPemOf(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

function serviceFor(overrides: Env): TokenService {
  return new TokenService(loadConfig(env(overrides)).config.jwt, undefined, 0);
}

function access(service: TokenService) {
  return service.signAccessToken({
    sub: randomUUID(),
    sid: randomUUID(),
    roles: ['USER'],
    fresh: true,
    gen: 0,
    aal: 1,
    amr: ['pwd'],
  });
}

function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()) as Record<string, unknown>;
}

function reasonOf(run: () => unknown): AuthFailure | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof AuthError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('kids', () => {
  test.each(ASYMMETRIC)('a %s key’s kid is its RFC 7638 thumbprint, as jose computes it', async (algorithm) => {
    const publicKey = createPublicKey(generatePrivateKeyPem(algorithm));
    expect(jwkThumbprint(publicKey)).toBe(await calculateJwkThumbprint(publicKey.export({ format: 'jwk' }) as JWK));
  });

  test('an HMAC key’s kid depends on the whole key and is not a plain hash of it', () => {
    const secret = randomBytes(48);
    const other = Buffer.from(secret);
    other[47] ^= 1;
    expect(secretKid(secret)).not.toBe(secretKid(other));
    expect(secretKid(secret)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('the published keys', () => {
  test.each(ASYMMETRIC)('%s: the signing key, then each distinct previous key, public parameters only', (algorithm) => {
    const signing = generatePrivateKeyPem(algorithm);
    const previous = generatePrivateKeyPem(algorithm);
    const keys = new KeySet({
      algorithm,
      privateKeyPem: signing,
      previousPublicKeyPems: [publicPemOf(previous), publicPemOf(previous), publicPemOf(signing)],
    });
    expect(keys.publicKeys.map((jwk) => jwk.kid)).toEqual([
      jwkThumbprint(createPublicKey(signing)),
      jwkThumbprint(createPublicKey(previous)),
    ]);
    expect(keys.signingKid).toBe(keys.publicKeys[0].kid);
    for (const jwk of keys.publicKeys) {
      expect(jwk).toMatchObject({ alg: algorithm, use: 'sig' });
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
    }
  });

  test('HS256 publishes nothing: its keys are secrets', () => {
    const keys = new KeySet({ algorithm: 'HS256', secret: randomBytes(48), previousSecrets: [randomBytes(48)] });
    expect(keys.publicKeys).toEqual([]);
  });

  test('only a configured kid finds a key', () => {
    const keys = new KeySet({
      algorithm: 'ES256',
      privateKeyPem: generatePrivateKeyPem('ES256'),
      previousPublicKeyPems: [],
    });
    expect(keys.verificationKey(keys.signingKid)).toBeDefined();
    for (const kid of [
      undefined,
      null,
      7,
      ['x'],
      '__proto__',
      'constructor',
      '../../etc/passwd',
      `${keys.signingKid} `,
    ])
      expect(keys.verificationKey(kid)).toBeUndefined();
  });
});

describe('verification across a rotation', () => {
  test.each(ASYMMETRIC)('%s: a token of the previous key verifies while it is listed, and not after', (algorithm) => {
    const oldKey = generatePrivateKeyPem(algorithm);
    const newKey = generatePrivateKeyPem(algorithm);
    const before = access(serviceFor({ JWT_ALGORITHM: algorithm, JWT_PRIVATE_KEY: oldKey }));
    const during = serviceFor({
      JWT_ALGORITHM: algorithm,
      JWT_PRIVATE_KEY: newKey,
      JWT_PREVIOUS_PUBLIC_KEYS: publicPemOf(oldKey),
    });
    expect(during.verifyAccessToken(before.token).jti).toBe(before.jti);
    const signedDuring = access(during);
    expect(headerOf(signedDuring.token).kid).toBe(jwkThumbprint(createPublicKey(newKey)));
    const after = serviceFor({ JWT_ALGORITHM: algorithm, JWT_PRIVATE_KEY: newKey });
    expect(reasonOf(() => after.verifyAccessToken(before.token))).toBe(AuthFailure.TOKEN_INVALID);
    expect(after.verifyAccessToken(signedDuring.token).jti).toBe(signedDuring.jti);
  });

  test('HS256: the same with JWT_PREVIOUS_SECRET_KEYS', () => {
    const oldSecret = randomBytes(48).toString('base64url');
    const newSecret = randomBytes(48).toString('base64url');
    const before = access(serviceFor({ JWT_SECRET_KEY: oldSecret }));
    const during = serviceFor({
      JWT_SECRET_KEY: newSecret,
      JWT_PREVIOUS_SECRET_KEYS: `${randomBytes(40).toString('hex')},${oldSecret}`,
    });
    expect(during.verifyAccessToken(before.token).jti).toBe(before.jti);
    expect(reasonOf(() => serviceFor({ JWT_SECRET_KEY: newSecret }).verifyAccessToken(before.token))).toBe(
      AuthFailure.TOKEN_INVALID,
    );
  });
});

describe('EdDSA', () => {
  test('its tokens verify with jose, as Ed25519 JWS', async () => {
    const privateKeyPem = generatePrivateKeyPem('EdDSA');
    const service = serviceFor({
      JWT_ALGORITHM: 'EdDSA',
      JWT_PRIVATE_KEY: privateKeyPem,
      JWT_ISSUER: 'https://auth.test',
    });
    const signed = access(service);
    const { payload, protectedHeader } = await jwtVerify(
      signed.token,
      await importSPKI(publicPemOf(privateKeyPem), 'EdDSA'),
      {
        issuer: 'https://auth.test',
        audience: 'tessera',
        typ: 'at+jwt',
      },
    );
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(payload.jti).toBe(signed.jti);
    expect(service.verifyAccessToken(signed.token).jti).toBe(signed.jti);
  });

  test('an expired EdDSA token is TOKEN_EXPIRED, a tampered one TOKEN_INVALID', async () => {
    const service = serviceFor({
      JWT_ALGORITHM: 'EdDSA',
      JWT_PRIVATE_KEY: generatePrivateKeyPem('EdDSA'),
      JWT_ACCESS_TOKEN_EXPIRES: '1',
    });
    const signed = access(service);
    const [header, payload, signature] = signed.token.split('.');
    const flipped = `${header}.${payload}.${signature.slice(0, -2)}${signature.endsWith('AA') ? 'AQ' : 'AA'}`;
    expect(reasonOf(() => service.verifyAccessToken(flipped))).toBe(AuthFailure.TOKEN_INVALID);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    expect(reasonOf(() => service.verifyAccessToken(signed.token))).toBe(AuthFailure.TOKEN_EXPIRED);
  });
});

describe('configuring previous keys', () => {
  function errorOf(overrides: Env): ConfigError {
    try {
      loadConfig(env(overrides));
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('loadConfig accepted it');
  }

  test('PEM texts and file paths, comma- or newline-separated', () => {
    const signing = generatePrivateKeyPem('ES256');
    const [a, b, c] = [1, 2, 3].map(() => publicPemOf(generatePrivateKeyPem('ES256')));
    const file = path.join(dataDir, 'previous.pem');
    writeFileSync(file, `${b}${c}`);
    const asText = loadConfig(
      env({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: signing, JWT_PREVIOUS_PUBLIC_KEYS: `${a},${b}` }),
    );
    expect(asText.config.jwt.keys).toMatchObject({ previousPublicKeyPems: [a, b] });
    const asPaths = loadConfig(
      env({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: signing, JWT_PREVIOUS_PUBLIC_KEYS: `${file}\n` }),
    );
    expect(asPaths.config.jwt.keys).toMatchObject({ previousPublicKeyPems: [b, c] });
  });

  test('a previous key of the wrong type, or a malformed one, stops the start naming the variable and echoing no key', () => {
    const signing = generatePrivateKeyPem('ES256');
    const rsa = publicPemOf(generatePrivateKeyPem('RS256'));
    const broken =
      '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEzH8a3Pk9QeR1mZ0Vx2sW7b\n-----END PUBLIC KEY-----\n';
    for (const value of [rsa, broken, `${publicPemOf(signing)},${rsa}`, '/no/such/key.pem']) {
      const error = errorOf({ JWT_ALGORITHM: 'ES256', JWT_PRIVATE_KEY: signing, JWT_PREVIOUS_PUBLIC_KEYS: value });
      expect(error.variable).toMatch(/^JWT_PREVIOUS_PUBLIC_KEYS/);
      for (const line of value.split('\n').filter((part) => part.length > 20 && !part.startsWith('-----')))
        expect(error.message).not.toContain(line);
    }
  });

  test('each family keeps to its own variable, and a short previous secret is refused', () => {
    expect(
      errorOf({
        JWT_SECRET_KEY: randomBytes(48).toString('hex'),
        JWT_PREVIOUS_PUBLIC_KEYS: publicPemOf(generatePrivateKeyPem('ES256')),
      }).variable,
    ).toBe('JWT_PREVIOUS_PUBLIC_KEYS');
    expect(
      errorOf({ JWT_ALGORITHM: 'ES256', JWT_PREVIOUS_SECRET_KEYS: randomBytes(48).toString('hex') }).variable,
    ).toBe('JWT_PREVIOUS_SECRET_KEYS');
    expect(
      errorOf({ JWT_SECRET_KEY: randomBytes(48).toString('hex'), JWT_PREVIOUS_SECRET_KEYS: 'short' }).variable,
    ).toMatch(/^JWT_PREVIOUS_SECRET_KEYS/);
  });

  test('an RSASSA-PSS-only key is refused for PS256 (it has no JWK form); a plain RSA key is taken', () => {
    const pss = generateKeyPairSync('rsa-pss', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    expect(errorOf({ JWT_ALGORITHM: 'PS256', JWT_PRIVATE_KEY: pss.privateKey }).variable).toBe('JWT_PRIVATE_KEY');
    expect(
      loadConfig(env({ JWT_ALGORITHM: 'PS256', JWT_PRIVATE_KEY: generatePrivateKeyPem('PS256') })).config.jwt.keys
        .algorithm,
    ).toBe('PS256');
  });

  test('OIDC_DISCOVERY: on outside production; in production only with an https JWT_ISSUER', () => {
    const production = {
      NODE_ENV: 'production',
      ARGON2_MEMORY_KIB: '19456',
      // Production needs SMTP_URL and APP_URL for the mail flows, which this test is not about.
      MAIL_FLOWS: 'off',
      JWT_ALGORITHM: 'ES256',
      JWT_PRIVATE_KEY: generatePrivateKeyPem('ES256'),
    };
    expect(loadConfig(env({})).config.wellKnown).toEqual({ maxAgeSeconds: 600, discovery: true });
    expect(loadConfig(env(production)).config.wellKnown.discovery).toBe(false);
    expect(loadConfig(env({ ...production, JWT_ISSUER: 'https://auth.example.com' })).config.wellKnown.discovery).toBe(
      true,
    );
    expect(errorOf({ ...production, OIDC_DISCOVERY: 'on' }).variable).toBe('JWT_ISSUER');
    expect(errorOf({ ...production, OIDC_DISCOVERY: 'on', JWT_ISSUER: 'http://auth.example.com' }).variable).toBe(
      'JWT_ISSUER',
    );
    expect(loadConfig(env({ JWKS_MAX_AGE: '1h', OIDC_DISCOVERY: 'off' })).config.wellKnown).toEqual({
      maxAgeSeconds: 3600,
      discovery: false,
    });
  });
});
