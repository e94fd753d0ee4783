// Behind a trusted proxy, every way of writing one client's address is one client: one per-IP
// budget and one session ip. What names no address is charged to the proxy, never a key of its own.
import pg from 'pg';
import { onlyError } from '../helpers/graphql-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const LOGIN = 'mutation L($input: LoginInput!) { login(input: $input) { accessToken } }';
const SIGNUP = 'mutation S($input: SignupInput!) { signup(input: $input) { accessToken user { id } } }';
const LIMITS = { RATE_LIMIT_IP_ATTEMPTS: '3', TRUST_PROXY: 'loopback' };

interface Proxied {
  app: TestServer;
  sql: pg.Client;
}

/** A Tessera on a database of its own, reached through a proxy on loopback that it trusts. */
function behindProxy(): Proxied {
  const proxied = {} as Proxied;
  beforeAll(async () => {
    proxied.app = await startTestServer(LIMITS);
    proxied.sql = new pg.Client({ connectionString: proxied.app.database.url });
    await proxied.sql.connect();
  });
  afterAll(async () => {
    await proxied.sql.end();
    await proxied.app.stop();
  });
  return proxied;
}

let attempts = 0;
/** How a failing login fares when the proxy forwards it with `headers`. */
async function failedLogin(app: TestServer, headers: Record<string, string>): Promise<string | undefined> {
  attempts += 1;
  const input = { usernameOrEmail: `nobody-${attempts}`, password: 'wrong password' };
  const error = onlyError(await app.client.request(LOGIN, { input }, { headers })).extensions;
  return error?.code === 'RATE_LIMITED' ? 'RATE_LIMITED' : error?.reason;
}

async function ipCounterKeys(sql: pg.Client): Promise<string[]> {
  const result = await sql.query<{ key: string }>("select key from rate_limits where key like 'ip-%' order by key");
  return result.rows.map((row) => row.key);
}

describe('a client address written in any form', () => {
  const proxied = behindProxy();
  const outcome = (headers: Record<string, string>) => failedLogin(proxied.app, headers);

  test('one IPv4 client arriving on a new port each time has one budget, whatever header names it', async () => {
    expect(await outcome({ 'x-forwarded-for': '198.51.100.20:50001' })).toBe('INVALID_CREDENTIALS');
    expect(await outcome({ 'x-forwarded-for': '198.51.100.20:50002' })).toBe('INVALID_CREDENTIALS');
    expect(await outcome({ forwarded: 'for="198.51.100.20:50003"' })).toBe('INVALID_CREDENTIALS');
    expect(await outcome({ 'x-forwarded-for': '198.51.100.20:50004' })).toBe('RATE_LIMITED');
    expect(await outcome({ 'x-forwarded-for': '198.51.100.20' })).toBe('RATE_LIMITED');
    expect(await outcome({ 'x-forwarded-for': '198.51.100.21:50001' })).toBe('INVALID_CREDENTIALS');
  });

  test('one IPv6 client, bracketed with a port, with a zone or bare, has one budget', async () => {
    expect(await outcome({ 'x-forwarded-for': '[2001:db8:77::1]:443' })).toBe('INVALID_CREDENTIALS');
    expect(await outcome({ 'x-forwarded-for': '[2001:db8:77::1]' })).toBe('INVALID_CREDENTIALS');
    expect(await outcome({ forwarded: 'for="[2001:db8:77::1]:8443";proto=https' })).toBe('INVALID_CREDENTIALS');
    expect(await outcome({ 'x-forwarded-for': '[2001:db8:77::1%25eth0]:444' })).toBe('RATE_LIMITED');
    expect(await outcome({ 'x-forwarded-for': '2001:db8:77::1' })).toBe('RATE_LIMITED');
  });

  test('X-Forwarded-For and Forwarded naming different clients are counted as the proxy, not as either', async () => {
    expect(await ipCounterKeys(proxied.sql)).not.toContain('ip-credentials:127.0.0.1');
    await outcome({ 'x-forwarded-for': '203.0.113.60', forwarded: 'for=203.0.113.61' });
    const after = await ipCounterKeys(proxied.sql);
    expect(after).toContain('ip-credentials:127.0.0.1');
    expect(after.some((key) => key.includes('203.0.113'))).toBe(false);
  });

  test("the session's ip is the normalised address, or the proxy's where the entry named none", async () => {
    const { app, sql } = proxied;
    const ipsOf = async (username: string, headers: Record<string, string>) => {
      const input = { username, email: `${username}@example.com`, password: 'correct horse battery' };
      const result = await app.client.request(SIGNUP, { input }, { headers });
      expect(result.errors).toBeUndefined();
      const reported = await app.client.request('{ mySessions { ip } }', {}, { token: result.data.signup.accessToken });
      const stored = await sql.query('select ip from sessions where user_id = $1', [result.data.signup.user.id]);
      return [...reported.data.mySessions, ...stored.rows].map((row: { ip: string }) => row.ip);
    };
    expect(await ipsOf('behind-port', { 'x-forwarded-for': '192.0.2.44:61000' })).toEqual(['192.0.2.44', '192.0.2.44']);
    expect(await ipsOf('behind-v6', { forwarded: 'for="[2001:DB8:0:0::44]:61000"' })).toEqual([
      '2001:db8::44',
      '2001:db8::44',
    ]);
    expect(await ipsOf('behind-junk', { 'x-forwarded-for': 'not-an-address' })).toEqual(['127.0.0.1', '127.0.0.1']);
  });
});

describe('entries that name no address', () => {
  const proxied = behindProxy();
  const outcome = (headers: Record<string, string>) => failedLogin(proxied.app, headers);

  test("share one budget, the proxy's, instead of each minting a budget of its own", async () => {
    expect(await outcome({ 'x-forwarded-for': 'not-an-address' })).toBe('INVALID_CREDENTIALS');
    expect(await outcome({ 'x-forwarded-for': 'unknown' })).toBe('INVALID_CREDENTIALS');
    expect(await outcome({ forwarded: 'for=_obfuscated' })).toBe('INVALID_CREDENTIALS');
    expect(await outcome({ 'x-forwarded-for': '999.1.2.3:80' })).toBe('RATE_LIMITED');
    expect(await outcome({ forwarded: 'for=unknown' })).toBe('RATE_LIMITED');
    // The proxy's own requests are in that budget; a client it names by address is not.
    expect(await outcome({})).toBe('RATE_LIMITED');
    expect(await outcome({ 'x-forwarded-for': '198.51.100.30' })).toBe('INVALID_CREDENTIALS');
    expect(await ipCounterKeys(proxied.sql)).toEqual(['ip-credentials:127.0.0.1', 'ip-credentials:198.51.100.30']);
  });
});
