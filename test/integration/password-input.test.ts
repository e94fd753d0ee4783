// Hostile and unusual passwords through the real API: each is either accepted and verifiable
// exactly as typed, or refused with WEAK_PASSWORD (or, past the body limit, a coded 413) —
// never a 500, never silently altered.
import { onlyError } from '../helpers/graphql-client.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

let app: TestServer;
beforeAll(async () => {
  // A body limit above 1 MB, so that the 1 MB password reaches the password rules.
  app = await startTestServer({ GRAPHQL_MAX_BODY_BYTES: String(2 * 1024 * 1024) });
});
afterAll(() => app.stop());

const SIGNUP = 'mutation S($input: SignupInput!) { signup(input: $input) { user { id } } }';
let counter = 0;

async function signup(password: string) {
  const username = `user${++counter}`;
  const result = await app.client.request(SIGNUP, { input: { username, email: `${username}@example.com`, password } });
  return { username, result };
}

test.each([
  ['empty', ''],
  ['7 characters', 'abcdefg'],
  ['257 characters', 'x'.repeat(257)],
  ['1 MB', 'y'.repeat(1024 * 1024)],
  ['one of the 10,000 most common', 'password1'],
  ['a common one in other case', 'PassWord1'],
  ['equal to the username', 'USER_SAME'],
])('refuses a password that is %s with WEAK_PASSWORD', async (_, password) => {
  const username = 'user_same';
  const result = await app.client.request(SIGNUP, { input: { username, email: 'same@example.com', password } });
  const error = onlyError(result);
  expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'WEAK_PASSWORD', field: 'password' });
});

test('refuses a password equal to the email address', async () => {
  const result = await app.client.request(SIGNUP, {
    input: { username: 'mailpw', email: 'mail.pw@example.com', password: 'Mail.PW@example.com' },
  });
  expect(onlyError(result).extensions?.reason).toBe('WEAK_PASSWORD');
});

test.each([
  ['exactly 8 characters', 'k7#qL9!z'],
  ['exactly 256 characters', 'Z'.repeat(255) + 'q'],
  ['with NUL bytes', 'pass\u0000word\u0000xyz'],
  ['made of emoji', '🔐🦊🌈🚀🎲🧩🪐🍄'],
  ['with leading and trailing spaces', '  spaced out words  '],
])('accepts a password %s and verifies it exactly as typed', async (_, password) => {
  const { username, result } = await signup(password);
  expect(result.errors).toBeUndefined();
  expect((await app.client.login(username, password)).errors).toBeUndefined();
  if (password !== password.trim()) {
    // Never trimmed: the trimmed form is another password.
    expect(onlyError(await app.client.login(username, password.trim())).extensions?.reason).toBe('INVALID_CREDENTIALS');
  }
});

test('the composed and decomposed forms of a password are the same password', async () => {
  const composed = 'Crème brûlée à la café'.normalize('NFC');
  const decomposed = composed.normalize('NFD');
  expect(decomposed).not.toBe(composed);
  const { username, result } = await signup(composed);
  expect(result.errors).toBeUndefined();
  expect((await app.client.login(username, decomposed)).errors).toBeUndefined();
});

test('a body over the configured limit is a coded 413, never a 500', async () => {
  const small = await startTestServer({ GRAPHQL_MAX_BODY_BYTES: '1024' }, app.database);
  try {
    const response = await fetch(small.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: SIGNUP,
        variables: { input: { username: 'big', email: 'big@example.com', password: 'z'.repeat(4096) } },
      }),
    });
    expect(response.status).toBe(413);
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
  } finally {
    await small.stop();
  }
});
