// loadConfig: what it refuses (naming the variable at fault) and what it accepts.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TokenService } from '../../src/auth/tokens.js';
import {
  ConfigError,
  generatePrivateKeyPem,
  loadConfig,
  parseDurationSeconds,
  type Config,
  type Env,
} from '../../src/config.js';

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

const root = mkdtempSync(path.join(tmpdir(), 'tessera-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
/** A data directory that does not exist yet, inside this run's temporary folder. */
function freshDataDir(): string {
  dirCount += 1;
  return path.join(root, `data-${dirCount}`, 'nested');
}

const SECRET = randomBytes(48).toString('base64url');
const MFA_KEY = randomBytes(32).toString('base64');

/** A valid test environment with `overrides` on top; an override set to undefined removes the variable. */
function envWith(overrides: Env = {}): Env {
  return {
    NODE_ENV: 'test',
    TESSERA_DATA_DIR: freshDataDir(),
    JWT_SECRET_KEY: SECRET,
    // What production needs for the mail flows; the mail settings' own tests unset them.
    SMTP_URL: 'smtp://mail.example.com:587',
    APP_URL: 'https://app.example.com',
    // What production needs while two-factor is on; the two-factor settings' own tests unset it.
    MFA_ENCRYPTION_KEY: MFA_KEY,
    ...overrides,
  };
}

function rsaPem(modulusLength = 2048): { privateKeyPem: string; publicKeyPem: string } {
  const pair = generateKeyPairSync('rsa', {
    modulusLength,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: pair.privateKey, publicKeyPem: pair.publicKey };
}

function expectConfigError(env: Env, variable: string): void {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ConfigError);
  expect((thrown as ConfigError).variable).toBe(variable);
  expect((thrown as ConfigError).message).toMatch(new RegExp(`^${variable}: `));
}

const rsa = rsaPem();
const notPemFile = path.join(root, 'not-a-key.txt');
writeFileSync(notPemFile, 'this is not a key\n');

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

interface RefusalRow {
  name: string;
  env: Env;
  variable: string;
}

const refusals: RefusalRow[] = [
  {
    name: 'production without JWT_SECRET_KEY',
    env: { NODE_ENV: 'production', JWT_SECRET_KEY: undefined },
    variable: 'JWT_SECRET_KEY',
  },
  {
    name: 'production with a blank JWT_SECRET_KEY',
    env: { NODE_ENV: 'production', JWT_SECRET_KEY: '   ' },
    variable: 'JWT_SECRET_KEY',
  },
  { name: 'a JWT_SECRET_KEY of 31 bytes', env: { JWT_SECRET_KEY: 'x'.repeat(31) }, variable: 'JWT_SECRET_KEY' },
  {
    name: 'a JWT_SECRET_KEY of 31 bytes in production',
    env: {
      NODE_ENV: 'production',
      JWT_SECRET_KEY: randomBytes(31)
        .toString('latin1')
        .replace(/[^\x20-\x7e]/g, 'a'),
    },
    variable: 'JWT_SECRET_KEY',
  },
  {
    name: 'JWT_ACCESS_TOKEN_EXPIRES "15 minutes"',
    env: { JWT_ACCESS_TOKEN_EXPIRES: '15 minutes' },
    variable: 'JWT_ACCESS_TOKEN_EXPIRES',
  },
  {
    name: 'JWT_ACCESS_TOKEN_EXPIRES "-1"',
    env: { JWT_ACCESS_TOKEN_EXPIRES: '-1' },
    variable: 'JWT_ACCESS_TOKEN_EXPIRES',
  },
  {
    name: 'JWT_ACCESS_TOKEN_EXPIRES "0"',
    env: { JWT_ACCESS_TOKEN_EXPIRES: '0' },
    variable: 'JWT_ACCESS_TOKEN_EXPIRES',
  },
  {
    name: 'JWT_ACCESS_TOKEN_EXPIRES "1.5h"',
    env: { JWT_ACCESS_TOKEN_EXPIRES: '1.5h' },
    variable: 'JWT_ACCESS_TOKEN_EXPIRES',
  },
  {
    name: 'JWT_REFRESH_TOKEN_EXPIRES "30 days"',
    env: { JWT_REFRESH_TOKEN_EXPIRES: '30 days' },
    variable: 'JWT_REFRESH_TOKEN_EXPIRES',
  },
  { name: 'JWT_LEEWAY "-5"', env: { JWT_LEEWAY: '-5' }, variable: 'JWT_LEEWAY' },
  { name: 'JWT_ALGORITHM "none"', env: { JWT_ALGORITHM: 'none' }, variable: 'JWT_ALGORITHM' },
  { name: 'JWT_ALGORITHM "HS512"', env: { JWT_ALGORITHM: 'HS512' }, variable: 'JWT_ALGORITHM' },
  {
    name: 'RS256 without JWT_PRIVATE_KEY in production',
    env: {
      NODE_ENV: 'production',
      ARGON2_MEMORY_KIB: '19456',
      JWT_ALGORITHM: 'RS256',
      JWT_PUBLIC_KEY: rsa.publicKeyPem,
    },
    variable: 'JWT_PRIVATE_KEY',
  },
  {
    name: 'no key at all in production',
    env: { NODE_ENV: 'production', ARGON2_MEMORY_KIB: '19456', JWT_SECRET_KEY: undefined },
    variable: 'JWT_SECRET_KEY',
  },
  {
    name: 'a JWT_PRIVATE_KEY path that does not exist',
    env: { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: path.join(root, 'missing.pem'), JWT_PUBLIC_KEY: rsa.publicKeyPem },
    variable: 'JWT_PRIVATE_KEY',
  },
  {
    name: 'a JWT_PUBLIC_KEY file that holds no PEM',
    env: { JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: rsa.privateKeyPem, JWT_PUBLIC_KEY: notPemFile },
    variable: 'JWT_PUBLIC_KEY',
  },
  { name: 'AUTH_CACHE_TTL "5 minutes"', env: { AUTH_CACHE_TTL: '5 minutes' }, variable: 'AUTH_CACHE_TTL' },
  { name: 'AUTH_CACHE_TTL "2h" (past an hour)', env: { AUTH_CACHE_TTL: '2h' }, variable: 'AUTH_CACHE_TTL' },
  {
    name: 'DATABASE_LISTEN_URL "mysql://x"',
    env: { DATABASE_LISTEN_URL: 'mysql://x' },
    variable: 'DATABASE_LISTEN_URL',
  },
  { name: 'DATABASE_URL "mysql://x"', env: { DATABASE_URL: 'mysql://x' }, variable: 'DATABASE_URL' },
  { name: 'DATABASE_URL "not a url"', env: { DATABASE_URL: 'not a url' }, variable: 'DATABASE_URL' },
  { name: 'PORT "abc"', env: { PORT: 'abc' }, variable: 'PORT' },
  { name: 'PORT "70000"', env: { PORT: '70000' }, variable: 'PORT' },
  { name: 'PORT "80.5"', env: { PORT: '80.5' }, variable: 'PORT' },
  {
    name: 'production with ARGON2_MEMORY_KIB=1024',
    env: { NODE_ENV: 'production', ARGON2_MEMORY_KIB: '1024' },
    variable: 'ARGON2_MEMORY_KIB',
  },
  {
    name: 'production with m=7168 KiB and t=1 (below memory x passes)',
    env: { NODE_ENV: 'production', ARGON2_MEMORY_KIB: '7168', ARGON2_TIME_COST: '1' },
    variable: 'ARGON2_MEMORY_KIB',
  },
  {
    name: 'JWT_REFRESH_TOKEN_EXPIRES shorter than JWT_ACCESS_TOKEN_EXPIRES',
    env: { JWT_ACCESS_TOKEN_EXPIRES: '15m', JWT_REFRESH_TOKEN_EXPIRES: '14m' },
    variable: 'JWT_REFRESH_TOKEN_EXPIRES',
  },
  { name: 'JWT_HEADER_NAME "Auth orization"', env: { JWT_HEADER_NAME: 'Auth orization' }, variable: 'JWT_HEADER_NAME' },
  { name: 'JWT_HEADER_NAME "Authorization:"', env: { JWT_HEADER_NAME: 'Authorization:' }, variable: 'JWT_HEADER_NAME' },
  { name: 'JWT_HEADER_TYPE "Bearer token"', env: { JWT_HEADER_TYPE: 'Bearer token' }, variable: 'JWT_HEADER_TYPE' },
  { name: 'LOG_LEVEL "verbose"', env: { LOG_LEVEL: 'verbose' }, variable: 'LOG_LEVEL' },
  { name: 'GRAPHQL_INTROSPECTION "maybe"', env: { GRAPHQL_INTROSPECTION: 'maybe' }, variable: 'GRAPHQL_INTROSPECTION' },
  { name: 'TRUST_PROXY "not-an-address"', env: { TRUST_PROXY: 'not-an-address' }, variable: 'TRUST_PROXY' },
  {
    name: 'RATE_LIMIT_IPV6_PREFIX "16" (one budget for whole providers)',
    env: { RATE_LIMIT_IPV6_PREFIX: '16' },
    variable: 'RATE_LIMIT_IPV6_PREFIX',
  },
  { name: 'RATE_LIMIT_IPV6_PREFIX "129"', env: { RATE_LIMIT_IPV6_PREFIX: '129' }, variable: 'RATE_LIMIT_IPV6_PREFIX' },
  {
    name: 'THREAD_POOL_NICE "20" (nice values end at 19)',
    env: { THREAD_POOL_NICE: '20' },
    variable: 'THREAD_POOL_NICE',
  },
  {
    name: 'THREAD_POOL_NICE "-5" (raising priority needs privileges)',
    env: { THREAD_POOL_NICE: '-5' },
    variable: 'THREAD_POOL_NICE',
  },
];

describe('loadConfig refuses', () => {
  test.each(refusals)('$name, naming $variable', ({ env, variable }) => {
    expectConfigError(envWith(env), variable);
  });
});

// ---------------------------------------------------------------------------------------------
// Production's rules outside production
// ---------------------------------------------------------------------------------------------

/** The argon2 defaults, which every NODE_ENV but development and test requires at least. */
const OWASP_ARGON2: Env = { ARGON2_MEMORY_KIB: '19456', ARGON2_TIME_COST: '2' };

describe("every NODE_ENV but development and test gets production's defaults and checks", () => {
  test.each(['production', 'staging', 'prod', 'Production', 'qa'])('NODE_ENV=%s', (nodeEnv) => {
    expectConfigError(envWith({ NODE_ENV: nodeEnv, ...OWASP_ARGON2, JWT_SECRET_KEY: undefined }), 'JWT_SECRET_KEY');
    expectConfigError(envWith({ NODE_ENV: nodeEnv, ARGON2_MEMORY_KIB: '1024' }), 'ARGON2_MEMORY_KIB');
    const { config } = loadConfig(envWith({ NODE_ENV: nodeEnv, ...OWASP_ARGON2 }));
    expect(config.isProduction).toBe(true);
    expect(config.graphql.introspection).toBe(false);
  });

  test.each(['development', 'test'])('NODE_ENV=%s keeps the relaxed defaults', (nodeEnv) => {
    const { config } = loadConfig(envWith({ NODE_ENV: nodeEnv, ARGON2_MEMORY_KIB: '1024', JWT_SECRET_KEY: undefined }));
    expect(config.isProduction).toBe(false);
    expect(config.graphql.introspection).toBe(true);
  });

  test('a missing NODE_ENV is development', () => {
    expect(loadConfig(envWith({ NODE_ENV: undefined })).config.isProduction).toBe(false);
  });

  test('staging generates no secret in the data directory', () => {
    const dataDir = freshDataDir();
    expectConfigError({ NODE_ENV: 'staging', ...OWASP_ARGON2, TESSERA_DATA_DIR: dataDir }, 'JWT_SECRET_KEY');
    expect(existsSync(path.join(dataDir, 'jwt-secret'))).toBe(false);
  });
});

describe('a JWT_SECRET_KEY that is not random data', () => {
  const placeholders: Array<[string, string]> = [
    ['one repeated character', 'a'.repeat(64)],
    ['"secret" repeated', 'secret'.repeat(6)],
    ['"changeme" repeated', 'changeme'.repeat(4)],
    ['a short pattern repeated', 'Ab1!'.repeat(10)],
    ['"super-secret" padded with zeros', `super-secret-${'0'.repeat(20)}`],
    ['"your-secret-key" padded with x', `your-secret-key-${'x'.repeat(20)}`],
    ['"password" padded with digits', 'password1234567890123456789012345'],
    ['"change-me-in-production"', 'change-me-in-production-please!!'],
    ["jwt.io's example secret, doubled", 'your-256-bit-secret-your-256-bit-secret'],
    ['placeholder words in mixed case', 'SuperSecretJwtKeyForTessera2024!'],
    ['a secret of few characters', 'abababababcdcdcdcdcdababababcdcdcdcd'],
  ];

  test.each(placeholders)('is refused in production when it is %s, saying how to make a good one', (_, secret) => {
    expectConfigError(envWith({ NODE_ENV: 'production', JWT_SECRET_KEY: secret }), 'JWT_SECRET_KEY');
    expect(() => loadConfig(envWith({ NODE_ENV: 'production', JWT_SECRET_KEY: secret }))).toThrow(
      'openssl rand -base64 48',
    );
  });

  test('is accepted in development and test, with a warning', () => {
    for (const nodeEnv of ['development', 'test']) {
      const { warnings } = loadConfig(envWith({ NODE_ENV: nodeEnv, JWT_SECRET_KEY: 'changeme'.repeat(4) }));
      expect(warnings).toEqual([expect.stringContaining('openssl rand -base64 48')]);
    }
  });

  test('random secrets in the usual encodings are accepted in production', () => {
    for (let round = 0; round < 200; round++) {
      for (const secret of [
        randomBytes(48).toString('base64'),
        randomBytes(32).toString('base64url'),
        randomBytes(32).toString('hex'),
        randomBytes(16).toString('hex'),
      ]) {
        const { config, warnings } = loadConfig(envWith({ NODE_ENV: 'production', JWT_SECRET_KEY: secret }));
        expect(config.jwt.keys).toEqual({ algorithm: 'HS256', secret: Buffer.from(secret), previousSecrets: [] });
        expect(warnings).toEqual([]);
      }
    }
  });
});

describe('a malformed JWT_PRIVATE_KEY or JWT_PUBLIC_KEY', () => {
  const body = (pem: string) =>
    pem
      .split('\n')
      .filter((line) => line !== '' && !line.startsWith('-----'))
      .join('');
  const malformed: Array<[string, 'JWT_PRIVATE_KEY' | 'JWT_PUBLIC_KEY', string]> = [
    ['a private key pasted without its BEGIN and END lines', 'JWT_PRIVATE_KEY', body(rsa.privateKeyPem)],
    ['a public key pasted without its BEGIN and END lines', 'JWT_PUBLIC_KEY', body(rsa.publicKeyPem)],
    ['a private key cut short', 'JWT_PRIVATE_KEY', rsa.privateKeyPem.slice(0, 400)],
    ['a private key with a damaged body', 'JWT_PRIVATE_KEY', rsa.privateKeyPem.replace(/[A-Za-z]{12}/, '!!!!!!!!!!!!')],
    [
      'a public key under a certificate label',
      'JWT_PUBLIC_KEY',
      rsa.publicKeyPem.replace(/PUBLIC KEY/g, 'CERTIFICATE'),
    ],
  ];

  test.each(malformed)('is reported without quoting any part of it: %s', (_, variable, value) => {
    const pair = { JWT_PRIVATE_KEY: rsa.privateKeyPem, JWT_PUBLIC_KEY: rsa.publicKeyPem, [variable]: value };
    let message = '';
    try {
      loadConfig(envWith({ JWT_ALGORITHM: 'RS256', ...pair }));
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(variable);
      message = (error as Error).message;
    }
    expect(message).not.toBe('');
    const windows = Array.from({ length: value.length - 7 }, (_, start) => value.slice(start, start + 8));
    expect(windows.filter((window) => message.includes(window))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Accepted settings
// ---------------------------------------------------------------------------------------------

describe('durations', () => {
  test.each([
    ['900', 900],
    ['15m', 900],
    ['12h', 43_200],
    ['30d', 2_592_000],
  ])('reads "%s" as %i seconds', (raw, seconds) => {
    expect(parseDurationSeconds(raw)).toBe(seconds);
    expect(loadConfig(envWith({ JWT_REFRESH_TOKEN_EXPIRES: raw })).config.jwt.refreshTokenTtlSeconds).toBe(seconds);
  });

  test('reads JWT_ACCESS_TOKEN_EXPIRES and defaults to 15 minutes and 30 days', () => {
    expect(loadConfig(envWith({ JWT_ACCESS_TOKEN_EXPIRES: '5m' })).config.jwt.accessTokenTtlSeconds).toBe(300);
    const { jwt } = loadConfig(envWith()).config;
    expect([jwt.accessTokenTtlSeconds, jwt.refreshTokenTtlSeconds]).toEqual([900, 2_592_000]);
  });

  test('reads AUDIT_RETENTION, defaults to 90 days, and refuses 0', () => {
    expect(loadConfig(envWith({ AUDIT_RETENTION: '30d' })).config.audit.retentionSeconds).toBe(2_592_000);
    expect(loadConfig(envWith()).config.audit.retentionSeconds).toBe(90 * 86_400);
    expect(() => loadConfig(envWith({ AUDIT_RETENTION: '0' }))).toThrow(ConfigError);
  });
});

describe('the auth caches', () => {
  test('AUTH_CACHE_TTL defaults to 5 seconds, takes a duration, and 0 turns the caches off', () => {
    expect(loadConfig(envWith()).config.authCacheTtlSeconds).toBe(5);
    expect(loadConfig(envWith({ AUTH_CACHE_TTL: '1m' })).config.authCacheTtlSeconds).toBe(60);
    expect(loadConfig(envWith({ AUTH_CACHE_TTL: '0' })).config.authCacheTtlSeconds).toBe(0);
  });

  test('DATABASE_LISTEN_URL is unset by default (the LISTEN connection then uses the ORM database)', () => {
    expect(loadConfig(envWith()).config.databaseListenUrl).toBeUndefined();
    const url = 'postgres://tessera@db.internal:5432/tessera';
    expect(loadConfig(envWith({ DATABASE_LISTEN_URL: url })).config.databaseListenUrl).toBe(url);
  });
});

describe('the database pools', () => {
  test("DATABASE_POOL_SIZE (the ORM's) defaults to 10 and DATABASE_STATEMENT_POOL_SIZE to 8", () => {
    const { config } = loadConfig(envWith());
    expect([config.databasePoolSize, config.databaseStatementPoolSize]).toEqual([10, 8]);
    const sized = loadConfig(envWith({ DATABASE_POOL_SIZE: '4', DATABASE_STATEMENT_POOL_SIZE: '16' })).config;
    expect([sized.databasePoolSize, sized.databaseStatementPoolSize]).toEqual([4, 16]);
  });

  test.each(['0', '201', 'eight'])('DATABASE_STATEMENT_POOL_SIZE %p is refused', (value) => {
    expectConfigError(envWith({ DATABASE_STATEMENT_POOL_SIZE: value }), 'DATABASE_STATEMENT_POOL_SIZE');
  });
});

describe('the metrics listener', () => {
  test('is off unless METRICS_PORT is set, and on loopback unless METRICS_HOST says otherwise', () => {
    expect(loadConfig(envWith()).config.metrics).toEqual({ port: undefined, host: '127.0.0.1' });
    expect(loadConfig(envWith({ METRICS_PORT: 'off' })).config.metrics.port).toBeUndefined();
    expect(loadConfig(envWith({ METRICS_PORT: '9464', METRICS_HOST: '0.0.0.0' })).config.metrics).toEqual({
      port: 9464,
      host: '0.0.0.0',
    });
  });

  test('is never the public port, and its port is a port', () => {
    expect(() => loadConfig(envWith({ PORT: '4000', METRICS_PORT: '4000' }))).toThrow(/METRICS_PORT: must differ/);
    expect(() => loadConfig(envWith({ METRICS_PORT: '70000' }))).toThrow(/METRICS_PORT/);
    expect(() => loadConfig(envWith({ METRICS_PORT: 'yes' }))).toThrow(/METRICS_PORT/);
  });
});

describe('the Authorization header', () => {
  test('an empty JWT_HEADER_TYPE means a bare token', () => {
    expect(loadConfig(envWith({ JWT_HEADER_TYPE: '' })).config.jwt.headerType).toBe('');
  });

  test('JWT_HEADER_TYPE "JWT" is kept as given, and Bearer is the default', () => {
    expect(loadConfig(envWith({ JWT_HEADER_TYPE: 'JWT' })).config.jwt.headerType).toBe('JWT');
    expect(loadConfig(envWith()).config.jwt.headerType).toBe('Bearer');
  });

  test('JWT_HEADER_NAME is lower-cased as Node presents incoming header names', () => {
    expect(loadConfig(envWith({ JWT_HEADER_NAME: 'X-Auth-Token' })).config.jwt.headerName).toBe('x-auth-token');
  });
});

describe('CORS_ORIGINS and CORS_MAX_AGE', () => {
  function messageOf(env: Env): string {
    try {
      loadConfig(envWith(env));
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('loadConfig accepted it');
  }

  test.each([
    ['the wildcard', '*'],
    ['a wildcard among origins', 'https://app.example.com,*'],
    ['a wildcard subdomain', 'https://*.example.com'],
    ['a bare host', 'app.example.com'],
    ['a trailing slash', 'https://app.example.com/'],
    ['a path', 'https://app.example.com/app'],
    ['a query', 'https://app.example.com?x=1'],
    ['credentials', 'https://user@app.example.com'],
    ['the default port spelt out', 'https://app.example.com:443'],
    ['a scheme browsers never send for pages calling an API', 'ftp://app.example.com'],
    ['the opaque origin', 'null'],
  ])('%s (%s) stops the start, naming CORS_ORIGINS', (_, value) => {
    expectConfigError(envWith({ CORS_ORIGINS: value }), 'CORS_ORIGINS');
  });

  test('the wildcard is refused with the reason: credentials need exact origins', () => {
    expect(messageOf({ CORS_ORIGINS: '*' })).toMatch(/^CORS_ORIGINS: .*exact origins/);
  });

  test('an origin written another way is refused with the form to write instead', () => {
    expect(messageOf({ CORS_ORIGINS: 'https://app.example.com:443' })).toContain('write it as https://app.example.com');
    expect(messageOf({ CORS_ORIGINS: 'https://app.example.com/' })).toContain('write it as https://app.example.com');
  });

  test('a comma-separated list is kept as exact origins, without loopback', () => {
    const { cors } = loadConfig(
      envWith({ CORS_ORIGINS: ' https://app.example.com , http://localhost:5173,,https://App.Example.com' }),
    ).config;
    expect(cors.origins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(cors.allowLoopback).toBe(false);
  });

  test('unset outside production: loopback origins; unset in production: none', () => {
    expect(loadConfig(envWith()).config.cors).toMatchObject({ origins: [], allowLoopback: true });
    const production = loadConfig(envWith({ NODE_ENV: 'production', ...OWASP_ARGON2 })).config;
    expect(production.cors).toMatchObject({ origins: [], allowLoopback: false });
  });

  test('CORS_MAX_AGE is 10 minutes unless set, as a duration of at most a day', () => {
    expect(loadConfig(envWith()).config.cors.maxAgeSeconds).toBe(600);
    expect(loadConfig(envWith({ CORS_MAX_AGE: '1h' })).config.cors.maxAgeSeconds).toBe(3600);
    expectConfigError(envWith({ CORS_MAX_AGE: '2d' }), 'CORS_MAX_AGE');
    expectConfigError(envWith({ CORS_MAX_AGE: 'soon' }), 'CORS_MAX_AGE');
  });
});

describe('DEMO_PAGE', () => {
  test('on by default outside production, off by default in production', () => {
    expect(loadConfig(envWith()).config.demoPage).toBe(true);
    expect(loadConfig(envWith({ NODE_ENV: 'production', ...OWASP_ARGON2 })).config.demoPage).toBe(false);
  });

  test('on or off, in any case, overrides either default; anything else is refused', () => {
    expect(loadConfig(envWith({ DEMO_PAGE: 'off' })).config.demoPage).toBe(false);
    expect(loadConfig(envWith({ NODE_ENV: 'production', ...OWASP_ARGON2, DEMO_PAGE: 'ON' })).config.demoPage).toBe(
      true,
    );
    expectConfigError(envWith({ DEMO_PAGE: 'yes' }), 'DEMO_PAGE');
  });
});

/** A token signed under the first load of a configuration verifies under the second. */
function expectTokensToSurviveReload(first: Config, second: Config): void {
  const signed = new TokenService(first.jwt).signAccessToken({
    sub: randomUUID(),
    sid: randomUUID(),
    roles: ['USER'],
    fresh: false,
    gen: 0,
    aal: 1,
    amr: ['pwd'],
  });
  expect(new TokenService(second.jwt).verifyAccessToken(signed.token).jti).toBe(signed.jti);
}

describe('keys', () => {
  test('accepts a JWT_SECRET_KEY of exactly 32 bytes', () => {
    const secret = 'k'.repeat(32);
    const { keys } = loadConfig(envWith({ JWT_SECRET_KEY: secret })).config.jwt;
    expect(keys).toEqual({ algorithm: 'HS256', secret: Buffer.from(secret), previousSecrets: [] });
  });

  test('accepts PEM keys written on one line with \\n escapes, as in an .env file', () => {
    const escaped = (pem: string) => pem.trimEnd().replace(/\n/g, '\\n');
    const { keys } = loadConfig(
      envWith({
        JWT_ALGORITHM: 'rs256',
        JWT_PRIVATE_KEY: escaped(rsa.privateKeyPem),
        JWT_PUBLIC_KEY: escaped(rsa.publicKeyPem),
      }),
    ).config.jwt;
    expect(keys).toEqual({ algorithm: 'RS256', privateKeyPem: rsa.privateKeyPem.trimEnd(), previousPublicKeyPems: [] });
  });

  test('JWT_PUBLIC_KEY is optional: the public half is derived from JWT_PRIVATE_KEY', () => {
    const { keys } = loadConfig(envWith({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: rsa.privateKeyPem })).config.jwt;
    expect(keys.algorithm).toBe('RS256');
  });

  test('without JWT_ALGORITHM, the algorithm follows the private key given', () => {
    const algorithmOf = (privateKey: string) =>
      loadConfig(envWith({ JWT_SECRET_KEY: undefined, JWT_PRIVATE_KEY: privateKey })).config.jwt.keys.algorithm;
    expect(algorithmOf(rsa.privateKeyPem)).toBe('RS256');
    expect(algorithmOf(generatePrivateKeyPem('ES256'))).toBe('ES256');
    expect(algorithmOf(generatePrivateKeyPem('EdDSA'))).toBe('EdDSA');
  });

  test('refuses a JWT_PUBLIC_KEY that is not the public half of JWT_PRIVATE_KEY', () => {
    expectConfigError(
      envWith({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: rsa.privateKeyPem, JWT_PUBLIC_KEY: rsaPem().publicKeyPem }),
      'JWT_PUBLIC_KEY',
    );
  });

  test('refuses an RSA key shorter than 2048 bits', () => {
    const weak = rsaPem(1024);
    expectConfigError(
      envWith({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: weak.privateKeyPem, JWT_PUBLIC_KEY: weak.publicKeyPem }),
      'JWT_PRIVATE_KEY',
    );
  });

  test('refuses an EC key pair when RS256 is configured', () => {
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    expectConfigError(
      envWith({ JWT_ALGORITHM: 'RS256', JWT_PRIVATE_KEY: ec.privateKey, JWT_PUBLIC_KEY: ec.publicKey }),
      'JWT_PRIVATE_KEY',
    );
  });

  test('outside production with no key at all, generates an ES256 key pair in TESSERA_DATA_DIR (mode 0600), warns, and reuses it', () => {
    const dataDir = freshDataDir();
    const env = envWith({ TESSERA_DATA_DIR: dataDir, JWT_SECRET_KEY: undefined, NODE_ENV: 'development' });
    const first = loadConfig(env);
    const keyFile = path.join(dataDir, 'jwt-es256-key.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(first.warnings).toEqual([expect.stringContaining(keyFile)]);
    expect(first.config.jwt.keys).toEqual({
      algorithm: 'ES256',
      privateKeyPem: readFileSync(keyFile, 'utf8'),
      previousPublicKeyPems: [],
    });
    const second = loadConfig(env);
    expect(second.config.jwt.keys).toEqual(first.config.jwt.keys);
    expectTokensToSurviveReload(first.config, second.config);
  });

  test('outside production with HS256 and no secret, generates one in TESSERA_DATA_DIR (mode 0600), warns, and reuses it', () => {
    const dataDir = freshDataDir();
    const env = envWith({
      TESSERA_DATA_DIR: dataDir,
      JWT_SECRET_KEY: undefined,
      JWT_ALGORITHM: 'HS256',
      NODE_ENV: 'development',
    });
    const first = loadConfig(env);
    const secretFile = path.join(dataDir, 'jwt-secret');
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(first.warnings).toEqual([expect.stringContaining(secretFile)]);
    const firstKeys = first.config.jwt.keys;
    if (firstKeys.algorithm !== 'HS256') throw new Error('expected HS256');
    expect(firstKeys.secret.length).toBeGreaterThanOrEqual(32);
    expect(firstKeys.secret.toString('utf8')).toBe(readFileSync(secretFile, 'utf8').trim());

    const second = loadConfig(env);
    expect(second.warnings).toEqual([expect.stringContaining(secretFile)]);
    expect(second.config.jwt.keys).toEqual(firstKeys);
    expectTokensToSurviveReload(first.config, second.config);
  });

  test('a generated secret differs between data directories', () => {
    const load = () => loadConfig(envWith({ JWT_SECRET_KEY: undefined, JWT_ALGORITHM: 'HS256' })).config.jwt.keys;
    expect(load()).not.toEqual(load());
  });
});

test('returns a deeply frozen config', () => {
  const { config } = loadConfig(envWith({ TRUST_PROXY: 'loopback' }));
  for (const part of [
    config,
    config.jwt,
    config.jwt.keys,
    config.sessions,
    config.argon2,
    config.graphql,
    config.throttle,
    config.trustProxy,
  ]) {
    expect(Object.isFrozen(part)).toBe(true);
  }
  expect(() => {
    (config as { port: number }).port = 1;
  }).toThrow(TypeError);
  expect(() => {
    (config.jwt as { issuer: string }).issuer = 'evil';
  }).toThrow(TypeError);
  expect(config.jwt.issuer).toBe('tessera');
});

describe('the token cookies (JWT_TOKEN_LOCATION, JWT_COOKIE_*, the CSRF settings)', () => {
  test("defaults: headers only, Flask-JWT-Extended's cookie names, Secure, Lax, the refresh cookie on /graphql", () => {
    const { jwt, cookies } = loadConfig(envWith()).config;
    expect(jwt.tokenLocation).toEqual(['headers']);
    expect(cookies).toEqual({
      refreshName: 'refresh_token_cookie',
      refreshPath: '/graphql',
      refreshCsrfName: 'csrf_refresh_token',
      refreshCsrfHeader: 'x-csrf-token',
      accessName: 'access_token_cookie',
      accessPath: '/',
      accessCsrfName: 'csrf_access_token',
      accessCsrfHeader: 'x-csrf-token',
      secure: true,
      sameSite: 'Lax',
      domain: undefined,
      csrfInCookies: true,
      csrfProtect: true,
    });
  });

  test('JWT_TOKEN_LOCATION keeps its order of precedence', () => {
    expect(loadConfig(envWith({ JWT_TOKEN_LOCATION: 'cookies, headers' })).config.jwt.tokenLocation).toEqual([
      'cookies',
      'headers',
    ]);
  });

  test.each([
    ['JWT_TOKEN_LOCATION', 'query_string'],
    ['JWT_TOKEN_LOCATION', 'headers,headers'],
    ['JWT_COOKIE_SAMESITE', 'Sometimes'],
    ['JWT_REFRESH_COOKIE_NAME', 'two words'],
    ['JWT_REFRESH_COOKIE_PATH', 'graphql'],
    ['JWT_REFRESH_COOKIE_PATH', '/a;Domain=evil.example'],
    ['JWT_COOKIE_DOMAIN', 'example.com; Secure'],
    ['JWT_REFRESH_CSRF_HEADER_NAME', 'X CSRF'],
  ])('%s=%s stops the start, naming it', (variable, value) => {
    expectConfigError(envWith({ [variable]: value }), variable);
  });

  test('SameSite=None without Secure is refused: browsers would drop the cookie', () => {
    expectConfigError(envWith({ JWT_COOKIE_SAMESITE: 'none', JWT_COOKIE_SECURE: 'false' }), 'JWT_COOKIE_SAMESITE');
    expect(loadConfig(envWith({ JWT_COOKIE_SAMESITE: 'none' })).config.cookies.sameSite).toBe('None');
  });

  test('a leading dot of JWT_COOKIE_DOMAIN is dropped, as browsers do', () => {
    expect(loadConfig(envWith({ JWT_COOKIE_DOMAIN: '.Example.com' })).config.cookies.domain).toBe('example.com');
  });
});

describe('the mail settings (MAIL_FLOWS, SMTP_URL, APP_URL, MAIL_*)', () => {
  const production: Env = { NODE_ENV: 'production', JWT_SECRET_KEY: SECRET };

  test('production needs SMTP_URL and APP_URL while MAIL_FLOWS is on (the default)', () => {
    expectConfigError(envWith({ ...production, SMTP_URL: undefined }), 'SMTP_URL');
    expectConfigError(envWith({ ...production, APP_URL: undefined }), 'APP_URL');
    expect(loadConfig(envWith(production)).config.mail).toMatchObject({
      enabled: true,
      smtpUrl: 'smtp://mail.example.com:587',
      appUrl: 'https://app.example.com',
    });
  });

  test('production with MAIL_FLOWS=off needs neither', () => {
    const { mail } = loadConfig(
      envWith({ ...production, MAIL_FLOWS: 'off', SMTP_URL: undefined, APP_URL: undefined }),
    ).config;
    expect(mail.enabled).toBe(false);
    expect(mail.smtpUrl).toBeUndefined();
  });

  test('outside production, no SMTP_URL means .eml files in <data>/mail, and APP_URL defaults to 127.0.0.1:PORT', () => {
    const dataDir = freshDataDir();
    const { mail } = loadConfig(
      envWith({ TESSERA_DATA_DIR: dataDir, SMTP_URL: undefined, APP_URL: undefined, PORT: '4100' }),
    ).config;
    expect(mail).toMatchObject({ enabled: true, smtpUrl: undefined, fileDir: `${dataDir}/mail` });
    expect(mail.appUrl).toBe('http://127.0.0.1:4100');
  });

  test.each([
    ['an http URL', 'http://user:hunter2-secret@mail.example.com'],
    ['no URL at all', 'mailer:hunter2-secret@mail'],
    ['no host', 'smtp://user:hunter2-secret@'],
  ])('an SMTP_URL that is %s is refused without repeating it', (_, value) => {
    let thrown: unknown;
    try {
      loadConfig(envWith({ SMTP_URL: value }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe('SMTP_URL');
    expect((thrown as ConfigError).message).not.toContain('hunter2-secret');
  });

  test('smtp:// and smtps:// URLs with credentials are accepted as given', () => {
    for (const url of ['smtp://user:p%40ss@mail.example.com:587', 'smtps://mail.example.com']) {
      expect(loadConfig(envWith({ SMTP_URL: url })).config.mail.smtpUrl).toBe(url);
    }
  });

  test.each(['app.example.com', 'ftp://app.example.com', 'https://app.example.com/?a=1', 'https://app.example.com/#x'])(
    'APP_URL %s is refused',
    (value) => expectConfigError(envWith({ APP_URL: value }), 'APP_URL'),
  );

  test('APP_URL may have a path; its trailing slash is dropped so that links join cleanly', () => {
    expect(loadConfig(envWith({ APP_URL: 'https://example.com/app/' })).config.mail.appUrl).toBe(
      'https://example.com/app',
    );
  });

  test('the link paths default to /verify-email, /reset-password, /confirm-email-change and can be set', () => {
    expect(loadConfig(envWith()).config.mail.linkPaths).toEqual({
      verifyEmail: '/verify-email',
      resetPassword: '/reset-password',
      confirmEmailChange: '/confirm-email-change',
    });
    expect(
      loadConfig(envWith({ MAIL_RESET_PASSWORD_PATH: '/account/reset' })).config.mail.linkPaths.resetPassword,
    ).toBe('/account/reset');
  });

  test.each([
    ['MAIL_VERIFY_EMAIL_PATH', 'verify'],
    ['MAIL_RESET_PASSWORD_PATH', '/reset?x=1'],
    ['MAIL_CONFIRM_EMAIL_CHANGE_PATH', '/confirm#frag'],
    ['MAIL_CONFIRM_EMAIL_CHANGE_PATH', 'https://evil.example.com/'],
  ])('%s "%s" is refused: a path, without query or fragment', (variable, value) => {
    expectConfigError(envWith({ [variable]: value }), variable);
  });

  test('the worker settings: defaults, durations, and their bounds', () => {
    expect(loadConfig(envWith()).config.mail).toMatchObject({
      from: 'Tessera <no-reply@localhost>',
      pollIntervalSeconds: 1,
      retryBaseSeconds: 10,
      retryMaxSeconds: 3600,
      maxAttempts: 12,
      sendTimeoutSeconds: 30,
      retentionSeconds: 7 * 86400,
    });
    expect(
      loadConfig(
        envWith({
          MAIL_FROM: 'Acme <auth@acme.example>',
          MAIL_RETRY_BASE: '1s',
          MAIL_RETENTION: '2s',
          MAIL_MAX_ATTEMPTS: '3',
        }),
      ).config.mail,
    ).toMatchObject({ from: 'Acme <auth@acme.example>', retryBaseSeconds: 1, retentionSeconds: 2, maxAttempts: 3 });
    expectConfigError(envWith({ MAIL_RETRY_BASE: '1m', MAIL_RETRY_MAX: '30s' }), 'MAIL_RETRY_MAX');
    expectConfigError(envWith({ MAIL_MAX_ATTEMPTS: '0' }), 'MAIL_MAX_ATTEMPTS');
    expectConfigError(envWith({ MAIL_SEND_TIMEOUT: '0' }), 'MAIL_SEND_TIMEOUT');
    expectConfigError(envWith({ MAIL_FLOWS: 'maybe' }), 'MAIL_FLOWS');
  });
});
