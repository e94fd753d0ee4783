// The only reader of the environment. Everything Tessera can be told is parsed, validated and
// frozen here, once, so that a bad or unsafe setting stops the start with a message naming the
// variable instead of surfacing later as a confusing runtime failure.
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

export const JWT_ALGORITHMS = ['HS256', 'RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
export type AsymmetricAlgorithm = Exclude<JwtAlgorithm, 'HS256'>;

/** RFC 8725 §3.5 / OWASP: an HMAC key needs at least 256 bits. */
const MIN_SECRET_BYTES = 32;
const OWASP_MIN_MEMORY_KIB = 7168;
const OWASP_MIN_MEMORY_X_PASSES = 7168 * 5;
/** The NODE_ENVs that relax production's defaults and checks; any other name gets them all. */
const RELAXED_ENVIRONMENTS: readonly string[] = ['development', 'test'];
const GOOD_SECRET_HINT = 'make one with `openssl rand -base64 48`';

/** The signing key, and the previous keys that still verify (key rotation). */
export type JwtKeys =
  | { algorithm: 'HS256'; secret: Buffer; previousSecrets: readonly Buffer[] }
  | { algorithm: AsymmetricAlgorithm; privateKeyPem: string; previousPublicKeyPems: readonly string[] };

export interface Config {
  readonly nodeEnv: string;
  /**
   * Production's defaults and checks: true for every NODE_ENV but development and test, so that
   * a staging or a misspelt production never gets a generated secret or introspection.
   */
  readonly isProduction: boolean;
  readonly host: string;
  readonly port: number;
  /** `/metrics` (Prometheus) on a listener of its own, never the public one. */
  readonly metrics: MetricsConfig;
  /** Absent means: start the embedded PostgreSQL in `dataDir`. */
  readonly databaseUrl: string | undefined;
  /** Where the LISTEN connection goes; absent means the same database as the ORM. */
  readonly databaseListenUrl: string | undefined;
  readonly databasePoolSize: number;
  /**
   * Connections for the statements a request waits for (the counters, a login's, a refresh's):
   * a refresh holds one through its commit's flush, so fewer than the flushes that the disk can
   * group together leave the cores idle.
   */
  readonly databaseStatementPoolSize: number;
  readonly dataDir: string;
  readonly embeddedPostgresPort: number;
  readonly logLevel: string;
  /**
   * libuv's thread pool, where argon2 hashes run. Sized to the cores by default: more threads
   * only hold more 19 MiB argon2 buffers and take the cores from the event loop (bench).
   */
  readonly threadPoolSize: number;
  /**
   * How many nice levels that pool's threads sit below the event loop (Linux), so that a flood
   * of logins yields the CPU to other requests; each level also makes hashing less efficient
   * (README, Performance). 0 keeps them at the event loop's level.
   */
  readonly threadPoolNice: number;
  readonly jwt: {
    readonly keys: JwtKeys;
    readonly issuer: string;
    readonly audience: string;
    readonly accessTokenTtlSeconds: number;
    readonly refreshTokenTtlSeconds: number;
    /** How long a device token exempts its client from the account-wide lock. */
    readonly deviceTokenTtlSeconds: number;
    readonly leewaySeconds: number;
    /** Lower-cased, as Node presents incoming header names. */
    readonly headerName: string;
    /** '' means a bare token with no scheme. */
    readonly headerType: string;
    readonly refreshReuseIntervalSeconds: number;
    /** Where /graphql looks for the access token, in order of precedence (JWT_TOKEN_LOCATION). */
    readonly tokenLocation: readonly TokenLocation[];
  };
  /** The cookies of COOKIE-transport sessions, and their CSRF defence. */
  readonly cookies: CookieConfig;
  /** /.well-known/jwks.json (always) and /.well-known/openid-configuration (when discovery is on). */
  readonly wellKnown: {
    readonly maxAgeSeconds: number;
    readonly discovery: boolean;
  };
  /**
   * How long a cached user, session or verified token may be trusted before it is read again, so
   * that a change made around Tessera (in SQL) takes effect; 0 disables those caches.
   */
  readonly authCacheTtlSeconds: number;
  readonly sessions: {
    /** 0 disables the inactivity timeout. */
    readonly inactivityTimeoutSeconds: number;
    readonly purgeIntervalSeconds: number;
    /** How long revoked rows are kept (for reuse detection and audit) before the purge. */
    readonly revokedRetentionSeconds: number;
  };
  readonly audit: {
    /** How long auth_events rows are kept; older ones go with the session purge. */
    readonly retentionSeconds: number;
  };
  readonly argon2: {
    readonly memoryKib: number;
    readonly timeCost: number;
    readonly parallelism: number;
  };
  readonly graphql: {
    readonly introspection: boolean;
    readonly maxBodyBytes: number;
    readonly maxDepth: number;
    readonly maxAliases: number;
    readonly maxTokens: number;
    readonly maxCost: number;
    /** The performance fast paths of the fields Tessera marks (src/graphql/fast-path/). */
    readonly fastPaths: boolean;
  };
  readonly throttle: {
    /** Credential attempts (login, signup, reauthenticate, changePassword, requestPasswordReset, resetPassword) per client IP per window. */
    readonly ipAttempts: number;
    /** Refreshes per client IP per window. */
    readonly ipRefreshes: number;
    readonly ipWindowSeconds: number;
    /** IPv6 clients share one budget per network of this many bits. */
    readonly ipv6PrefixLength: number;
    /** Failed password checks on one account that lock it for lockSeconds. */
    readonly accountFailures: number;
    readonly accountWindowSeconds: number;
    readonly accountLockSeconds: number;
    /** Mails one address or account may be sent on request (verification, reset) per mailWindowSeconds. */
    readonly mailRequests: number;
    readonly mailWindowSeconds: number;
  };
  /** proxy-addr trust list: the proxies whose X-Forwarded-For is believed. Empty: the socket only. */
  readonly trustProxy: readonly string[];
  readonly cors: CorsConfig;
  /** Whether `/` serves the demo front-end (demo/): on by default outside production only. */
  readonly demoPage: boolean;
  readonly mail: MailConfig;
  readonly accountFlows: AccountFlowsConfig;
  readonly mfa: MfaConfig;
}

export const TOKEN_LOCATIONS = ['headers', 'cookies'] as const;
export type TokenLocation = (typeof TOKEN_LOCATIONS)[number];
export const SAME_SITE_VALUES = ['Strict', 'Lax', 'None'] as const;
export type SameSite = (typeof SAME_SITE_VALUES)[number];

/** The refresh token's cookie, the access token's (JWT_TOKEN_LOCATION with cookies), and their CSRF companions. */
export interface MetricsConfig {
  /** Absent: no metrics listener (the default). 0 picks a free port. */
  readonly port: number | undefined;
  /** Loopback by default: the numbers describe the service to whoever can read them. */
  readonly host: string;
}

export interface CookieConfig {
  readonly refreshName: string;
  readonly refreshPath: string;
  readonly refreshCsrfName: string;
  /** Lower-cased, as Node presents incoming header names. */
  readonly refreshCsrfHeader: string;
  readonly accessName: string;
  readonly accessPath: string;
  readonly accessCsrfName: string;
  readonly accessCsrfHeader: string;
  readonly secure: boolean;
  readonly sameSite: SameSite;
  readonly domain: string | undefined;
  /** Whether the CSRF values are also set as script-readable cookies (the double submit's other half). */
  readonly csrfInCookies: boolean;
  /** Whether a request a cookie authenticates must echo its token's CSRF value in a header. */
  readonly csrfProtect: boolean;
}

/** Which browser origins may call /graphql with credentials. */
export interface CorsConfig {
  /** Exact origins, as browsers send them (`https://app.example.com`). */
  readonly origins: readonly string[];
  /** Any http(s) origin on localhost, 127.0.0.1 or [::1]: the default outside production. */
  readonly allowLoopback: boolean;
  readonly maxAgeSeconds: number;
}

export const MAIL_LINK_FLOWS = ['verifyEmail', 'resetPassword', 'confirmEmailChange'] as const;
export type MailLinkFlow = (typeof MAIL_LINK_FLOWS)[number];

export interface MailConfig {
  /** MAIL_FLOWS: off removes every flow that needs mail (their mutations answer FORBIDDEN, MAIL_DISABLED). */
  readonly enabled: boolean;
  /** smtp:// or smtps:// with its credentials; never logged. Unset: .eml files in `fileDir` (not in production). */
  readonly smtpUrl: string | undefined;
  readonly from: string;
  readonly fileDir: string;
  /** The front-end's base URL: every link in a mail starts here. */
  readonly appUrl: string;
  /** The path each link opens on the front-end, with `?token=` appended. */
  readonly linkPaths: Readonly<Record<MailLinkFlow, string>>;
  readonly pollIntervalSeconds: number;
  /** The first retry's delay; each further one doubles, up to retryMaxSeconds. */
  readonly retryBaseSeconds: number;
  readonly retryMaxSeconds: number;
  readonly maxAttempts: number;
  /** How long a claimed mail is left to its worker before another may try it. */
  readonly sendTimeoutSeconds: number;
  /** Sent and given-up mails are deleted after this. */
  readonly retentionSeconds: number;
}

export const SIGNUP_MODES = ['open', 'verified'] as const;
export type SignupMode = (typeof SIGNUP_MODES)[number];

export interface AccountFlowsConfig {
  readonly signupMode: SignupMode;
  /** Login refuses an account whose address is not verified (EMAIL_NOT_VERIFIED). Implied by SIGNUP_MODE=verified. */
  readonly requireVerifiedEmail: boolean;
  readonly passwordResetTtlSeconds: number;
  readonly emailVerificationTtlSeconds: number;
  readonly emailChangeTtlSeconds: number;
}

/** Two-factor authentication (authenticator-app codes and recovery codes). */
export interface MfaConfig {
  /** TWO_FACTOR: off removes enrolment; accounts that have it still need their code. */
  readonly enabled: boolean;
  /** AES-256-GCM key for the TOTP secrets at rest; the previous keys still decrypt (rotation). */
  readonly encryptionKey: Buffer;
  readonly previousEncryptionKeys: readonly Buffer[];
  /** The issuer an authenticator app shows beside the username. */
  readonly issuerName: string;
  /** How long the `mfa+jwt` challenge of a login, a reauthentication or a step-up lasts. */
  readonly challengeTtlSeconds: number;
  /** Wrong codes one challenge may take before it is spent. */
  readonly challengeAttempts: number;
  /** ADMIN-only fields (queries and mutations) need aal 2; an ADMIN without two-factor can only enrol. */
  readonly adminRequireMfa: boolean;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Accepts plain seconds ("900") or a number with one unit ("15m", "30d"). */
export function parseDurationSeconds(raw: string): number | undefined {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(raw);
  if (!match) return undefined;
  return Number(match[1]) * (DURATION_UNITS[match[2] || 's'] ?? 1);
}

interface Reader {
  string(name: string, fallback: string): string;
  optionalString(name: string): string | undefined;
  integer(name: string, fallback: number, min: number, max: number): number;
  duration(name: string, fallback: string, min: number, max: number): number;
  boolean(name: string, fallback: boolean): boolean;
  oneOf<T extends string>(name: string, choices: readonly T[], fallback: T): T;
}

function createReader(env: Env): Reader {
  const present = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value;
  };
  return {
    string: (name, fallback) => present(name) ?? fallback,
    optionalString: (name) => present(name),
    integer(name, fallback, min, max) {
      const raw = present(name);
      if (raw === undefined) return fallback;
      const parsed = z.coerce.number().int().min(min).max(max).safeParse(raw.trim());
      if (!parsed.success) throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
      return parsed.data;
    },
    duration(name, fallback, min, max) {
      const raw = present(name) ?? fallback;
      const seconds = parseDurationSeconds(raw);
      if (seconds === undefined)
        throw new ConfigError(name, `must be seconds or a duration like 15m, 12h, 30d; got "${raw}"`);
      if (seconds < min || seconds > max)
        throw new ConfigError(name, `must be from ${min}s to ${max}s, got ${seconds}s`);
      return seconds;
    },
    boolean(name, fallback) {
      const raw = present(name);
      if (raw === undefined) return fallback;
      const normalized = raw.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(normalized)) return true;
      if (['false', '0', 'no'].includes(normalized)) return false;
      throw new ConfigError(name, `must be true or false, got "${raw}"`);
    },
    oneOf(name, choices, fallback) {
      const raw = present(name);
      if (raw === undefined) return fallback;
      const found = choices.find((choice) => choice.toLowerCase() === raw.trim().toLowerCase());
      if (!found) throw new ConfigError(name, `must be one of ${choices.join(', ')}, got "${raw}"`);
      return found;
    },
  };
}

/** The non-empty, trimmed entries of a list setting. */
function listEntries(raw: string, separator: string | RegExp = ','): string[] {
  return raw
    .split(separator)
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * PEM text, or a path to a file holding it. No message quotes the value: what was meant as a path
 * may be a pasted key (its body without the BEGIN line), and errors end up in logs.
 */
function readPem(name: string, value: string): string {
  const text = value.includes('-----BEGIN') ? value.replace(/\\n/g, '\n') : readFileOrFail(name, value);
  if (!text.includes('-----BEGIN')) throw new ConfigError(name, 'is neither PEM text nor a path to a PEM file');
  return text;
}

function readFileOrFail(name: string, filePath: string): string {
  try {
    return readFileSync(filePath, 'utf8');
  } catch {
    throw new ConfigError(
      name,
      `is neither PEM text nor the path of a readable file (the value, ${filePath.length} characters, is not shown)`,
    );
  }
}

function resolveSecret(read: Reader, isProduction: boolean, dataDir: string, warnings: string[]): Buffer {
  const configured = read.optionalString('JWT_SECRET_KEY');
  if (configured !== undefined) {
    const secret = Buffer.from(configured, 'utf8');
    if (secret.length < MIN_SECRET_BYTES) {
      throw new ConfigError(
        'JWT_SECRET_KEY',
        `must be at least ${MIN_SECRET_BYTES} bytes of random data (got ${secret.length}): ${GOOD_SECRET_HINT}`,
      );
    }
    const weakness = secretWeakness(configured);
    if (weakness !== undefined && isProduction)
      throw new ConfigError('JWT_SECRET_KEY', `${weakness}, not random data: ${GOOD_SECRET_HINT}`);
    if (weakness !== undefined)
      warnings.push(`JWT_SECRET_KEY ${weakness}: refused outside development and test; ${GOOD_SECRET_HINT}`);
    return secret;
  }
  if (isProduction) {
    throw new ConfigError(
      'JWT_SECRET_KEY',
      `is required unless NODE_ENV is development or test: set at least ${MIN_SECRET_BYTES} random bytes; ${GOOD_SECRET_HINT}`,
    );
  }
  // Outside production a secret is generated once and kept, so tokens survive restarts.
  const secretFile = path.join(dataDir, 'jwt-secret');
  if (!existsSync(secretFile)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(secretFile, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
    warnings.push(
      `JWT_SECRET_KEY is not set: generated a development secret in ${secretFile} (never do this in production)`,
    );
  } else {
    warnings.push(`JWT_SECRET_KEY is not set: using the development secret in ${secretFile}`);
  }
  return Buffer.from(readFileSync(secretFile, 'utf8').trim(), 'utf8');
}

/**
 * Words of the placeholders that tutorials and .env examples ship ("your-secret-key",
 * "change-me-in-production", "super-secret-jwt-key"), compared lower-case.
 */
const PLACEHOLDER_WORDS = [
  ...['your', 'my', 'our', 'the', 'this', 'that', 'in', 'on', 'for', 'to', 'of', 'and', 'with', 'it', 'is', 'be'],
  ...['must', 'should', 'at', 'least', 'long', 'longer', 'very', 'random', 'string', 'value', 'here', 'please'],
  ...['replace', 'insert', 'put', 'set', 'new', 'generate', 'generated', 'todo', 'fixme', 'change', 'changed', 'me'],
  ...['secret', 'secrets', 's3cr3t', 's3cret', 'secr3t', 'secure', 'super', 'key', 'keys', 'jwt', 'jws', 'hs256'],
  ...['password', 'passw0rd', 'p4ssw0rd', 'p@ssw0rd', 'passwd', 'pass', 'passphrase', 'token', 'tokens'],
  ...['access', 'refresh', 'signing', 'sign', 'hmac', 'private', 'app', 'api', 'auth', 'tessera', 'default'],
  ...['example', 'sample', 'test', 'testing', 'dev', 'development', 'local', 'prod', 'production', 'staging'],
  ...['dummy', 'foo', 'bar', 'baz', 'qwerty', 'letmein', 'admin', 'root', 'abc', 'xyz', 'hello', 'world'],
  ...['bit', 'bits', 'byte', 'bytes', 'char', 'chars', 'characters'],
];
const MIN_DISTINCT_SECRET_CHARACTERS = 8;
const MAX_REPEATED_UNIT = 16;

/** What plainly shows that `secret` is not random data, or undefined when nothing does. */
function secretWeakness(secret: string): string | undefined {
  const chars = [...secret];
  for (let unit = 1; unit <= MAX_REPEATED_UNIT && unit * 2 <= chars.length; unit++) {
    if (chars.every((char, index) => char === chars[index % unit])) return 'is one short pattern repeated';
  }
  if (new Set(chars).size < MIN_DISTINCT_SECRET_CHARACTERS)
    return `has fewer than ${MIN_DISTINCT_SECRET_CHARACTERS} different characters`;
  if (isPlaceholder(secret.toLowerCase()))
    return 'is made of placeholder words (like "secret" or "changeme"), digits and padding';
  return undefined;
}

/** Whether `text` splits entirely into placeholder words, digits, punctuation and runs of one character. */
function isPlaceholder(text: string): boolean {
  const reachable = new Array<boolean>(text.length + 1).fill(false);
  reachable[0] = true;
  for (let start = 0; start < text.length; start++) {
    if (!reachable[start]) continue;
    const rest = text.slice(start);
    for (const word of PLACEHOLDER_WORDS) if (rest.startsWith(word)) reachable[start + word.length] = true;
    const filler = /^(?:\d+|[^\p{L}\p{N}]+|(.)\1{2,})/su.exec(rest);
    if (filler) reachable[start + filler[0].length] = true;
  }
  return reachable[text.length];
}

function resolveKeys(read: Reader, isProduction: boolean, dataDir: string, warnings: string[]): JwtKeys {
  const privateKeyValue = read.optionalString('JWT_PRIVATE_KEY');
  const privateKeyPem = privateKeyValue === undefined ? undefined : readPem('JWT_PRIVATE_KEY', privateKeyValue);
  const configuredKey =
    privateKeyPem === undefined ? undefined : parseKey('JWT_PRIVATE_KEY', () => createPrivateKey(privateKeyPem));
  const algorithm = read.oneOf(
    'JWT_ALGORITHM',
    JWT_ALGORITHMS,
    defaultAlgorithm(read.optionalString('JWT_SECRET_KEY') !== undefined, configuredKey, isProduction),
  );
  if (algorithm === 'HS256') {
    if (read.optionalString('JWT_PREVIOUS_PUBLIC_KEYS') !== undefined)
      throw new ConfigError(
        'JWT_PREVIOUS_PUBLIC_KEYS',
        'is for asymmetric keys: with HS256 use JWT_PREVIOUS_SECRET_KEYS',
      );
    return {
      algorithm,
      secret: resolveSecret(read, isProduction, dataDir, warnings),
      previousSecrets: previousSecrets(read, isProduction),
    };
  }
  if (read.optionalString('JWT_PREVIOUS_SECRET_KEYS') !== undefined)
    throw new ConfigError('JWT_PREVIOUS_SECRET_KEYS', `is for HS256: with ${algorithm} use JWT_PREVIOUS_PUBLIC_KEYS`);
  const signingPem = privateKeyPem ?? developmentKeyPair(algorithm, isProduction, dataDir, warnings);
  const privateKey = configuredKey ?? parseKey('JWT_PRIVATE_KEY', () => createPrivateKey(signingPem));
  checkKeySuits('JWT_PRIVATE_KEY', algorithm, privateKey);
  const publicKeyValue = read.optionalString('JWT_PUBLIC_KEY');
  if (publicKeyValue !== undefined) checkPublicHalf(privateKey, readPem('JWT_PUBLIC_KEY', publicKeyValue));
  return { algorithm, privateKeyPem: signingPem, previousPublicKeyPems: previousPublicKeys(read, algorithm) };
}

/** Without JWT_ALGORITHM: the algorithm of the key given, or ES256 for the key made in development. */
function defaultAlgorithm(hasSecret: boolean, key: KeyObject | undefined, isProduction: boolean): JwtAlgorithm {
  if (hasSecret) return 'HS256';
  if (key !== undefined) {
    if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
    if (key.asymmetricKeyType === 'ec') return 'ES256';
    return 'RS256';
  }
  // In production a missing key is reported by resolveSecret, as it always was.
  return isProduction ? 'HS256' : 'ES256';
}

/**
 * Outside production with no key: a key pair generated once into the data folder and kept, so
 * that tokens survive restarts and the JWKS has a key from the first start.
 */
function developmentKeyPair(
  algorithm: AsymmetricAlgorithm,
  isProduction: boolean,
  dataDir: string,
  warnings: string[],
): string {
  if (isProduction) {
    throw new ConfigError(
      'JWT_PRIVATE_KEY',
      `is required for ${algorithm} unless NODE_ENV is development or test (npm run keys:generate -- --alg ${algorithm})`,
    );
  }
  const keyFile = path.join(dataDir, `jwt-${algorithm.toLowerCase()}-key.pem`);
  if (!existsSync(keyFile)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(keyFile, generatePrivateKeyPem(algorithm), { mode: 0o600, flag: 'wx' });
    warnings.push(
      `JWT_PRIVATE_KEY is not set: generated a development ${algorithm} key in ${keyFile} (never do this in production)`,
    );
  } else {
    warnings.push(`JWT_PRIVATE_KEY is not set: using the development ${algorithm} key in ${keyFile}`);
  }
  return readFileSync(keyFile, 'utf8');
}

/** A new private key for `algorithm`, PKCS#8 PEM (also what npm run keys:generate prints). */
export function generatePrivateKeyPem(algorithm: AsymmetricAlgorithm): string {
  const privateKeyEncoding = { type: 'pkcs8', format: 'pem' } as const;
  const publicKeyEncoding = { type: 'spki', format: 'pem' } as const;
  if (algorithm === 'EdDSA')
    return generateKeyPairSync('ed25519', { privateKeyEncoding, publicKeyEncoding }).privateKey;
  if (algorithm === 'ES256')
    return generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding, publicKeyEncoding }).privateKey;
  return generateKeyPairSync('rsa', { modulusLength: RSA_MIN_BITS, privateKeyEncoding, publicKeyEncoding }).privateKey;
}

/** PEM keys given as PEM texts or file paths, comma- or newline-separated. */
function readPemList(name: string, value: string): string[] {
  const text = value.replace(/\\n/g, '\n');
  const sources = text.includes('-----BEGIN')
    ? [text]
    : listEntries(text, /[,\n]/).map((filePath) => readFileOrFail(name, filePath));
  const blocks = sources.flatMap((source) => source.match(PEM_BLOCK) ?? []);
  if (blocks.length === 0)
    throw new ConfigError(name, 'holds no PEM key (PEM texts or file paths, comma- or newline-separated)');
  return blocks;
}

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g;

function previousPublicKeys(read: Reader, algorithm: AsymmetricAlgorithm): string[] {
  const value = read.optionalString('JWT_PREVIOUS_PUBLIC_KEYS');
  if (value === undefined) return [];
  return readPemList('JWT_PREVIOUS_PUBLIC_KEYS', value).map((pem, index) => {
    const name = `JWT_PREVIOUS_PUBLIC_KEYS (key ${index + 1})`;
    const key = parseKey(name, () => createPublicKey(pem));
    checkKeySuits(name, algorithm, key);
    return key.export({ type: 'spki', format: 'pem' }).toString();
  });
}

function previousSecrets(read: Reader, isProduction: boolean): Buffer[] {
  const value = read.optionalString('JWT_PREVIOUS_SECRET_KEYS');
  if (value === undefined) return [];
  return listEntries(value, /[,\n]/).map((entry, index) => {
    const name = `JWT_PREVIOUS_SECRET_KEYS (key ${index + 1})`;
    if (Buffer.byteLength(entry) < MIN_SECRET_BYTES)
      throw new ConfigError(name, `must be at least ${MIN_SECRET_BYTES} bytes`);
    const weakness = secretWeakness(entry);
    if (weakness !== undefined && isProduction) throw new ConfigError(name, `${weakness}, not random data`);
    return Buffer.from(entry, 'utf8');
  });
}

const RSA_MIN_BITS = 2048;

/**
 * A key must suit the algorithm; otherwise the server would start and then fail every login (a
 * wrong key type or size) or every request. No message quotes the key.
 */
function checkKeySuits(name: string, algorithm: AsymmetricAlgorithm, key: KeyObject): void {
  const details = key.asymmetricKeyDetails ?? {};
  if (algorithm === 'EdDSA') {
    if (key.asymmetricKeyType !== 'ed25519') throw new ConfigError(name, 'must be an Ed25519 key for EdDSA');
  } else if (algorithm === 'ES256') {
    if (key.asymmetricKeyType !== 'ec' || details.namedCurve !== 'prime256v1') {
      throw new ConfigError(name, 'must be an EC key on the P-256 curve for ES256');
    }
  } else if (key.asymmetricKeyType !== 'rsa') {
    // An RSASSA-PSS-only key (id-RSASSA-PSS) has no JWK form; PS256 signs with a plain RSA key.
    throw new ConfigError(name, `must be an RSA key (rsaEncryption) for ${algorithm}`);
  } else if ((details.modulusLength ?? 0) < RSA_MIN_BITS) {
    throw new ConfigError(name, `must be an RSA key of at least ${RSA_MIN_BITS} bits (got ${details.modulusLength})`);
  }
}

function checkPublicHalf(privateKey: KeyObject, publicKeyPem: string): void {
  const publicKey = parseKey('JWT_PUBLIC_KEY', () => createPublicKey(publicKeyPem));
  const derived = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!derived.equals(publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new ConfigError('JWT_PUBLIC_KEY', 'is not the public half of JWT_PRIVATE_KEY');
  }
}

function parseKey(name: string, parse: () => KeyObject): KeyObject {
  try {
    return parse();
  } catch {
    throw new ConfigError(name, 'is not a PEM key that can be read');
  }
}

function validateDatabaseUrl(url: string | undefined, name = 'DATABASE_URL'): string | undefined {
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(name, 'is not a valid URL (expected postgres://user:password@host:port/database)');
  }
  if (!['postgres:', 'postgresql:'].includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with postgres:// or postgresql://, got "${parsed.protocol}//"`);
  }
  return url;
}

/** RFC 9110 token characters: anything else could never arrive as a header or cookie name. */
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function headerName(variable: string, raw: string): string {
  if (!HTTP_TOKEN.test(raw)) throw new ConfigError(variable, `is not a valid HTTP header name: "${raw}"`);
  return raw.toLowerCase();
}

function validateHeaderType(env: Env): string {
  // An explicitly empty JWT_HEADER_TYPE means a bare token, so it is read without the usual
  // "empty means unset" rule.
  const raw = env.JWT_HEADER_TYPE;
  if (raw === undefined) return 'Bearer';
  const trimmed = raw.trim();
  if (trimmed !== '' && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(trimmed)) {
    throw new ConfigError('JWT_HEADER_TYPE', `must be one word (like Bearer or JWT) or empty, got "${raw}"`);
  }
  return trimmed;
}

export interface LoadedConfig {
  config: Config;
  /** Things an operator should know, to be logged once the logger exists. */
  warnings: string[];
}

export function loadConfig(env: Env): LoadedConfig {
  const read = createReader(env);
  const warnings: string[] = [];
  const nodeEnv = read.string('NODE_ENV', 'development');
  const isProduction = !RELAXED_ENVIRONMENTS.includes(nodeEnv);
  // npm runs every script from the project root, so relative paths are relative to it.
  const dataDir = path.resolve(read.string('TESSERA_DATA_DIR', '.data'));
  const issuer = read.string('JWT_ISSUER', 'tessera');
  const accessTokenTtlSeconds = read.duration('JWT_ACCESS_TOKEN_EXPIRES', '15m', 1, 86400);
  const refreshTokenTtlSeconds = read.duration('JWT_REFRESH_TOKEN_EXPIRES', '30d', 1, 365 * 86400);
  if (refreshTokenTtlSeconds < accessTokenTtlSeconds) {
    throw new ConfigError('JWT_REFRESH_TOKEN_EXPIRES', 'must not be shorter than JWT_ACCESS_TOKEN_EXPIRES');
  }
  const argon2 = {
    memoryKib: read.integer('ARGON2_MEMORY_KIB', 19456, 1024, 4 * 1024 * 1024),
    timeCost: read.integer('ARGON2_TIME_COST', 2, 1, 20),
    parallelism: read.integer('ARGON2_PARALLELISM', 1, 1, 16),
  };
  // OWASP's equivalent argon2id settings run from m=19 MiB t=2 down to m=7 MiB t=5: all spend at
  // least about 35 MiB x passes. Below that outside development is almost always a copied test setting.
  if (
    isProduction &&
    (argon2.memoryKib < OWASP_MIN_MEMORY_KIB || argon2.memoryKib * argon2.timeCost < OWASP_MIN_MEMORY_X_PASSES)
  ) {
    throw new ConfigError(
      'ARGON2_MEMORY_KIB',
      "with ARGON2_TIME_COST is below OWASP's argon2id minimum (m=19456 KiB t=2, or m=7168 KiB t=5), refused unless NODE_ENV is development or test",
    );
  }

  const keys = resolveKeys(read, isProduction, dataDir, warnings);
  const port = read.integer('PORT', 4000, 0, 65535);
  const mail = parseMail(read, isProduction, dataDir, port);

  const config: Config = {
    nodeEnv,
    isProduction,
    host: read.string('HOST', '127.0.0.1'),
    port,
    metrics: parseMetrics(read, port),
    databaseUrl: validateDatabaseUrl(read.optionalString('DATABASE_URL')),
    databaseListenUrl: validateDatabaseUrl(read.optionalString('DATABASE_LISTEN_URL'), 'DATABASE_LISTEN_URL'),
    databasePoolSize: read.integer('DATABASE_POOL_SIZE', 10, 1, 200),
    databaseStatementPoolSize: read.integer('DATABASE_STATEMENT_POOL_SIZE', 8, 1, 200),
    dataDir,
    embeddedPostgresPort: read.integer('EMBEDDED_POSTGRES_PORT', 54329, 1, 65535),
    threadPoolSize: read.integer('UV_THREADPOOL_SIZE', availableParallelism(), 1, 1024),
    threadPoolNice: read.integer('THREAD_POOL_NICE', 10, 0, 19),
    logLevel: read.oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),
    jwt: {
      keys,
      issuer,
      audience: read.string('JWT_AUDIENCE', 'tessera'),
      accessTokenTtlSeconds,
      refreshTokenTtlSeconds,
      deviceTokenTtlSeconds: read.duration('JWT_DEVICE_TOKEN_EXPIRES', '90d', 1, 365 * 86400),
      leewaySeconds: read.duration('JWT_LEEWAY', '0', 0, 300),
      headerName: headerName('JWT_HEADER_NAME', read.string('JWT_HEADER_NAME', 'Authorization')),
      headerType: validateHeaderType(env),
      refreshReuseIntervalSeconds: read.duration('JWT_REFRESH_REUSE_INTERVAL', '10', 0, 300),
      tokenLocation: parseTokenLocation(read.string('JWT_TOKEN_LOCATION', 'headers')),
    },
    cookies: parseCookies(read),
    wellKnown: {
      maxAgeSeconds: read.duration('JWKS_MAX_AGE', '10m', 0, 86400),
      discovery: parseDiscovery(read, isProduction, issuer),
    },
    authCacheTtlSeconds: read.duration('AUTH_CACHE_TTL', '5s', 0, 3600),
    sessions: {
      inactivityTimeoutSeconds: read.duration('SESSION_INACTIVITY_TIMEOUT', '0', 0, 365 * 86400),
      purgeIntervalSeconds: read.duration('SESSION_PURGE_INTERVAL', '1h', 1, 7 * 86400),
      revokedRetentionSeconds: read.duration('SESSION_REVOKED_RETENTION', '7d', 0, 365 * 86400),
    },
    audit: {
      retentionSeconds: read.duration('AUDIT_RETENTION', '90d', 1, 10 * 365 * 86400),
    },
    argon2,
    graphql: {
      introspection: read.boolean('GRAPHQL_INTROSPECTION', !isProduction),
      maxBodyBytes: read.integer('GRAPHQL_MAX_BODY_BYTES', 100 * 1024, 1024, 10 * 1024 * 1024),
      maxDepth: read.integer('GRAPHQL_MAX_DEPTH', 8, 2, 100),
      maxAliases: read.integer('GRAPHQL_MAX_ALIASES', 15, 0, 1000),
      maxTokens: read.integer('GRAPHQL_MAX_TOKENS', 1000, 50, 100_000),
      maxCost: read.integer('GRAPHQL_MAX_COST', 5000, 10, 1_000_000),
      fastPaths: read.boolean('GRAPHQL_FAST_PATHS', true),
    },
    throttle: {
      ipAttempts: read.integer('RATE_LIMIT_IP_ATTEMPTS', 30, 1, 1_000_000),
      ipRefreshes: read.integer('RATE_LIMIT_IP_REFRESHES', 120, 1, 1_000_000),
      ipWindowSeconds: read.duration('RATE_LIMIT_IP_WINDOW', '1m', 1, 86400),
      ipv6PrefixLength: read.integer('RATE_LIMIT_IPV6_PREFIX', 56, 32, 128),
      accountFailures: read.integer('ACCOUNT_LOCK_FAILURES', 5, 1, 1000),
      accountWindowSeconds: read.duration('ACCOUNT_LOCK_WINDOW', '15m', 1, 86400),
      accountLockSeconds: read.duration('ACCOUNT_LOCK_DURATION', '15m', 1, 86400),
      mailRequests: read.integer('RATE_LIMIT_MAIL_REQUESTS', 5, 1, 1000),
      mailWindowSeconds: read.duration('RATE_LIMIT_MAIL_WINDOW', '1h', 1, 7 * 86400),
    },
    trustProxy: parseTrustProxy(read.optionalString('TRUST_PROXY')),
    cors: parseCors(read, isProduction),
    demoPage: read.oneOf('DEMO_PAGE', ['on', 'off'] as const, isProduction ? 'off' : 'on') === 'on',
    mail,
    accountFlows: parseAccountFlows(read, mail),
    mfa: parseMfa(read, isProduction, dataDir, issuer, warnings),
  };
  return { config: deepFreeze(config), warnings };
}

/** METRICS_PORT (unset or `off`: no listener) and METRICS_HOST; never the public port. */
function parseMetrics(read: Reader, publicPort: number): MetricsConfig {
  const host = read.string('METRICS_HOST', '127.0.0.1');
  if (read.optionalString('METRICS_PORT')?.trim().toLowerCase() === 'off') return { port: undefined, host };
  const port =
    read.optionalString('METRICS_PORT') === undefined ? undefined : read.integer('METRICS_PORT', 0, 0, 65535);
  if (port !== undefined && port !== 0 && port === publicPort) {
    throw new ConfigError('METRICS_PORT', 'must differ from PORT: /metrics is never served on the public port');
  }
  return { port, host };
}

/**
 * OIDC_DISCOVERY: on outside production; in production on when JWT_ISSUER is an https URL, which
 * discovery needs (a gateway given the issuer alone finds the keys at its /.well-known address).
 */
function parseDiscovery(read: Reader, isProduction: boolean, issuer: string): boolean {
  const issuerIsUrl = /^https:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(issuer);
  const setting = read.oneOf('OIDC_DISCOVERY', ['on', 'off'] as const, isProduction && !issuerIsUrl ? 'off' : 'on');
  if (setting === 'on' && isProduction && !issuerIsUrl) {
    throw new ConfigError(
      'JWT_ISSUER',
      "must be an https URL (Tessera's public address, e.g. https://auth.example.com) when OIDC_DISCOVERY is on in production",
    );
  }
  return setting === 'on';
}

/** `headers`, `cookies`, or both in order of precedence (Flask-JWT-Extended's JWT_TOKEN_LOCATION). */
function parseTokenLocation(raw: string): TokenLocation[] {
  const entries = raw.split(',').map((entry) => entry.trim().toLowerCase());
  const valid = entries.every((entry): entry is TokenLocation =>
    (TOKEN_LOCATIONS as readonly string[]).includes(entry),
  );
  if (!valid || new Set(entries).size !== entries.length) {
    throw new ConfigError('JWT_TOKEN_LOCATION', `must be headers, cookies, or both comma-separated, got "${raw}"`);
  }
  return entries;
}

function parseCookies(read: Reader): CookieConfig {
  const secure = read.boolean('JWT_COOKIE_SECURE', true);
  const sameSite = read.oneOf('JWT_COOKIE_SAMESITE', SAME_SITE_VALUES, 'Lax');
  // Browsers drop a SameSite=None cookie that is not Secure.
  if (sameSite === 'None' && !secure)
    throw new ConfigError('JWT_COOKIE_SAMESITE', 'None requires JWT_COOKIE_SECURE=true');
  const name = (variable: string, fallback: string) => cookieName(variable, read.string(variable, fallback));
  const at = (variable: string, fallback: string) => cookiePath(variable, read.string(variable, fallback));
  const header = (variable: string, fallback: string) => headerName(variable, read.string(variable, fallback));
  return {
    refreshName: name('JWT_REFRESH_COOKIE_NAME', 'refresh_token_cookie'),
    refreshPath: at('JWT_REFRESH_COOKIE_PATH', '/graphql'),
    refreshCsrfName: name('JWT_REFRESH_CSRF_COOKIE_NAME', 'csrf_refresh_token'),
    refreshCsrfHeader: header('JWT_REFRESH_CSRF_HEADER_NAME', 'X-CSRF-TOKEN'),
    accessName: name('JWT_ACCESS_COOKIE_NAME', 'access_token_cookie'),
    accessPath: at('JWT_ACCESS_COOKIE_PATH', '/'),
    accessCsrfName: name('JWT_ACCESS_CSRF_COOKIE_NAME', 'csrf_access_token'),
    accessCsrfHeader: header('JWT_ACCESS_CSRF_HEADER_NAME', 'X-CSRF-TOKEN'),
    secure,
    sameSite,
    domain: cookieDomain(read.optionalString('JWT_COOKIE_DOMAIN')),
    csrfInCookies: read.boolean('JWT_CSRF_IN_COOKIES', true),
    csrfProtect: read.boolean('JWT_COOKIE_CSRF_PROTECT', true),
  };
}

/** RFC 6265 §4.1.1: a cookie name is an HTTP token. */
function cookieName(variable: string, raw: string): string {
  if (!HTTP_TOKEN.test(raw)) throw new ConfigError(variable, `is not a valid cookie name: "${raw}"`);
  return raw;
}

function cookiePath(variable: string, raw: string): string {
  if (!/^\/[\x21-\x3a\x3c-\x7e]*$/.test(raw))
    throw new ConfigError(variable, `must be a path starting with /, got "${raw}"`);
  return raw;
}

function cookieDomain(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const domain = raw.trim().replace(/^\./, '').toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(domain)) {
    throw new ConfigError('JWT_COOKIE_DOMAIN', `is not a domain name: "${raw}"`);
  }
  return domain;
}

/** Comma-separated addresses, CIDRs or proxy-addr's names (loopback, linklocal, uniquelocal). */
function parseTrustProxy(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  const entries = listEntries(raw);
  try {
    proxyaddr.compile(entries);
  } catch (error) {
    throw new ConfigError(
      'TRUST_PROXY',
      `is not a list of addresses, CIDRs or loopback/linklocal/uniquelocal: ${(error as Error).message}`,
    );
  }
  return entries;
}

function parseCors(read: Reader, isProduction: boolean): CorsConfig {
  const raw = read.optionalString('CORS_ORIGINS');
  // Browsers cap a cached preflight at 2 hours (Chromium) or 24 hours (Firefox).
  const maxAgeSeconds = read.duration('CORS_MAX_AGE', '10m', 0, 86400);
  if (raw === undefined) return { origins: [], allowLoopback: !isProduction, maxAgeSeconds };
  const entries = listEntries(raw);
  return { origins: [...new Set(entries.map(parseOrigin))], allowLoopback: false, maxAgeSeconds };
}

/** One exact origin, written as a browser sends it in `Origin`; anything else would never match. */
function parseOrigin(entry: string): string {
  if (entry.includes('*')) {
    throw new ConfigError(
      'CORS_ORIGINS',
      `"${entry}": wildcards are refused, since credentialed requests need exact origins; list each one`,
    );
  }
  let url: URL | undefined;
  try {
    url = new URL(entry);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    (url.protocol !== 'https:' && url.protocol !== 'http:') ||
    url.origin !== entry.toLowerCase()
  ) {
    const hint = url?.protocol === 'https:' || url?.protocol === 'http:' ? ` (write it as ${url.origin})` : '';
    throw new ConfigError(
      'CORS_ORIGINS',
      `"${entry}" is not an origin: expected scheme://host[:port] with http or https, no path${hint}`,
    );
  }
  return url.origin;
}

function parseMail(read: Reader, isProduction: boolean, dataDir: string, port: number): MailConfig {
  const enabled = read.oneOf('MAIL_FLOWS', ['on', 'off'] as const, 'on') === 'on';
  const smtpUrl = parseSmtpUrl(read.optionalString('SMTP_URL'));
  if (enabled && isProduction && smtpUrl === undefined) {
    throw new ConfigError('SMTP_URL', 'is required in production while MAIL_FLOWS is on (smtp://user:pass@host:587)');
  }
  const appUrl = read.optionalString('APP_URL');
  if (enabled && isProduction && appUrl === undefined) {
    throw new ConfigError('APP_URL', "is required in production while MAIL_FLOWS is on: the front-end's base URL");
  }
  const retryBaseSeconds = read.duration('MAIL_RETRY_BASE', '10s', 1, 86400);
  const retryMaxSeconds = read.duration('MAIL_RETRY_MAX', '1h', 1, 7 * 86400);
  if (retryMaxSeconds < retryBaseSeconds)
    throw new ConfigError('MAIL_RETRY_MAX', 'must not be shorter than MAIL_RETRY_BASE');
  const path = (variable: string, fallback: string) => linkPath(variable, read.string(variable, fallback));
  return {
    enabled,
    smtpUrl,
    from: read.string('MAIL_FROM', 'Tessera <no-reply@localhost>'),
    fileDir: `${dataDir}/mail`,
    // The demo page's address as `npm start` prints it: a link opens the same origin, with its cookies.
    appUrl: parseAppUrl(appUrl ?? `http://127.0.0.1:${port}`),
    linkPaths: {
      verifyEmail: path('MAIL_VERIFY_EMAIL_PATH', '/verify-email'),
      resetPassword: path('MAIL_RESET_PASSWORD_PATH', '/reset-password'),
      confirmEmailChange: path('MAIL_CONFIRM_EMAIL_CHANGE_PATH', '/confirm-email-change'),
    },
    pollIntervalSeconds: read.duration('MAIL_POLL_INTERVAL', '1s', 1, 3600),
    retryBaseSeconds,
    retryMaxSeconds,
    maxAttempts: read.integer('MAIL_MAX_ATTEMPTS', 12, 1, 1000),
    sendTimeoutSeconds: read.duration('MAIL_SEND_TIMEOUT', '30s', 1, 600),
    retentionSeconds: read.duration('MAIL_RETENTION', '7d', 0, 365 * 86400),
  };
}

function parseSmtpUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw.trim());
  } catch {
    url = undefined;
  }
  // The value holds a password: the message never repeats it.
  if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') {
    throw new ConfigError('SMTP_URL', 'must be smtp://[user:pass@]host[:port] or smtps://...');
  }
  return raw.trim();
}

function parseAppUrl(raw: string): string {
  let url: URL | undefined;
  try {
    url = new URL(raw.trim());
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.search !== '' || url.hash !== '') {
    throw new ConfigError('APP_URL', `must be an http(s) URL without query or fragment, got "${raw}"`);
  }
  return url.href.replace(/\/$/, '');
}

function linkPath(variable: string, raw: string): string {
  if (!/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/.test(raw)) {
    throw new ConfigError(variable, `must be a path starting with /, without query or fragment, got "${raw}"`);
  }
  return raw;
}

function parseAccountFlows(read: Reader, mail: MailConfig): AccountFlowsConfig {
  const signupMode = read.oneOf('SIGNUP_MODE', SIGNUP_MODES, 'open');
  const requireVerifiedEmail = signupMode === 'verified' || read.boolean('REQUIRE_VERIFIED_EMAIL', false);
  if (!mail.enabled && requireVerifiedEmail) {
    throw new ConfigError(
      signupMode === 'verified' ? 'SIGNUP_MODE' : 'REQUIRE_VERIFIED_EMAIL',
      'needs the mail flows: nobody could verify an address with MAIL_FLOWS=off',
    );
  }
  return {
    signupMode,
    requireVerifiedEmail,
    passwordResetTtlSeconds: read.duration('PASSWORD_RESET_TOKEN_EXPIRES', '1h', 1, 7 * 86400),
    emailVerificationTtlSeconds: read.duration('EMAIL_VERIFICATION_TOKEN_EXPIRES', '24h', 1, 30 * 86400),
    emailChangeTtlSeconds: read.duration('EMAIL_CHANGE_TOKEN_EXPIRES', '24h', 1, 30 * 86400),
  };
}

const MFA_KEY_BYTES = 32;

function parseMfa(read: Reader, isProduction: boolean, dataDir: string, issuer: string, warnings: string[]): MfaConfig {
  const enabled = read.oneOf('TWO_FACTOR', ['on', 'off'] as const, 'on') === 'on';
  const given = read.optionalString('MFA_ENCRYPTION_KEY');
  const previous = read.optionalString('MFA_PREVIOUS_ENCRYPTION_KEYS');
  const encryptionKey =
    given !== undefined
      ? parseMfaKey('MFA_ENCRYPTION_KEY', given)
      : developmentMfaKey(enabled, isProduction, dataDir, warnings);
  return {
    enabled,
    encryptionKey,
    previousEncryptionKeys: previous
      ? listEntries(previous).map((entry) => parseMfaKey('MFA_PREVIOUS_ENCRYPTION_KEYS', entry))
      : [],
    issuerName: read.string('MFA_ISSUER_NAME', issuer),
    challengeTtlSeconds: read.duration('MFA_CHALLENGE_EXPIRES', '5m', 10, 3600),
    challengeAttempts: read.integer('MFA_CHALLENGE_ATTEMPTS', 5, 1, 100),
    adminRequireMfa: read.boolean('ADMIN_REQUIRE_MFA', isProduction),
  };
}

/** 32 bytes as base64, base64url or hex. The message never repeats the value. */
function parseMfaKey(variable: string, raw: string): Buffer {
  const text = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(text)
    ? Buffer.from(text, 'hex')
    : /^[A-Za-z0-9+/_-]{43}=?$/.test(text)
      ? Buffer.from(text.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''), 'base64url')
      : undefined;
  if (key?.length !== MFA_KEY_BYTES) {
    throw new ConfigError(variable, 'must be 32 bytes as base64 or hex: make one with `openssl rand -base64 32`');
  }
  return key;
}

/**
 * Outside production, a key generated once into the data folder and kept, so enrolments survive
 * restarts. In production it must be given while two-factor is on (the secrets it guards would
 * otherwise be lost with the machine).
 */
function developmentMfaKey(enabled: boolean, isProduction: boolean, dataDir: string, warnings: string[]): Buffer {
  if (isProduction) {
    if (enabled) {
      throw new ConfigError(
        'MFA_ENCRYPTION_KEY',
        'is required in production while TWO_FACTOR is on: make one with `openssl rand -base64 32`',
      );
    }
    // Nothing is encrypted with it: enrolment is off, and no secret is read without a key.
    return randomBytes(MFA_KEY_BYTES);
  }
  const keyFile = path.join(dataDir, 'mfa-encryption-key');
  if (!existsSync(keyFile)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(keyFile, randomBytes(MFA_KEY_BYTES).toString('base64url'), { mode: 0o600, flag: 'wx' });
    warnings.push(
      `MFA_ENCRYPTION_KEY is not set: generated a development key in ${keyFile} (never do this in production)`,
    );
  }
  return parseMfaKey('MFA_ENCRYPTION_KEY', readFileSync(keyFile, 'utf8'));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
