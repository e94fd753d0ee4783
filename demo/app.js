// Tessera's demo front-end, and a recipe to copy. The refresh token lives in an HttpOnly cookie
// that no script can read; the access token lives in a variable, so a reload forgets it and the
// page gets a new one from the cookie.
import { setUpTwoFactorPanel } from './two-factor.js';

// Tessera's GraphQL endpoint: this origin's /graphql, unless a copy of the page served elsewhere
// is given it as ?api=https://tessera.example.com/graphql (that origin must be in CORS_ORIGINS).
const GRAPHQL_URL = new URLSearchParams(location.search).get('api') ?? '/graphql';

// transport echoes the choice made at login: COOKIE for this page's whole session.
const AUTH_FIELDS = 'accessToken transport';
const SIGNUP = `mutation Signup($input: SignupInput!) { signup(input: $input) { ${AUTH_FIELDS} } }`;
const LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
// A login of an account with two-factor ends here, with the challenge the login answered.
const COMPLETE_MFA_LOGIN = `mutation CompleteMfaLogin($mfaToken: String!, $code: String, $recoveryCode: String) {
  completeMfaLogin(mfaToken: $mfaToken, code: $code, recoveryCode: $recoveryCode) { ${AUTH_FIELDS} }
}`;
const REFRESH = `mutation Refresh { refresh { ${AUTH_FIELDS} } }`;
const LOGOUT = 'mutation Logout { logout(scope: CURRENT) }';
const REGISTER = 'mutation Register($input: SignupInput!) { register(input: $input) }';
const ACCOUNT = `query Account {
  me { username email emailVerified roles twoFactorEnabled }
  mySessions { current userAgent lastUsedAt }
  myTasks { title done }
}`;
const CREATE_TASK = 'mutation CreateTask($title: String!) { createTask(title: $title) { id } }';
const REQUEST_RESET = 'mutation RequestPasswordReset($email: String!) { requestPasswordReset(email: $email) }';
const RESET = `mutation ResetPassword($token: String!, $newPassword: String!) {
  resetPassword(token: $token, newPassword: $newPassword, transport: COOKIE) { ${AUTH_FIELDS} }
}`;
const REQUEST_VERIFICATION = 'mutation RequestEmailVerification { requestEmailVerification }';
const VERIFY = 'mutation VerifyEmail($token: String!) { verifyEmail(token: $token) }';
const REQUEST_EMAIL_CHANGE = `mutation RequestEmailChange($newEmail: String!, $password: String!) {
  requestEmailChange(newEmail: $newEmail, password: $password)
}`;
const CONFIRM_EMAIL_CHANGE = 'mutation ConfirmEmailChange($token: String!) { confirmEmailChange(token: $token) }';

let accessToken = null;
let refreshing = null;
let refreshCount = 0;
// A login's second-factor challenge (MFA_REQUIRED's mfaToken): in memory only, like the access token.
let mfaToken = null;

/** An error from Tessera, with the `extensions.code` and `extensions.reason` a client acts on. */
class TesseraError extends Error {
  constructor({ message, extensions = {} }) {
    super(message);
    this.code = extensions.code;
    this.reason = extensions.reason;
    this.extensions = extensions;
  }
}

/**
 * One POST to Tessera. `credentials: 'include'` lets the cookies go and come back even when the
 * page is on another origin; the JSON content type makes the browser preflight the call, which
 * is what Apollo's CSRF prevention asks for. Throws the first GraphQL error.
 */
async function post(query, variables = {}, headers = {}) {
  const response = await fetch(GRAPHQL_URL, {
    method: 'POST',
    credentials: 'include',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new TesseraError(body.errors[0]);
  return body.data;
}

/** The value of a cookie this page can read (not the HttpOnly refresh token). */
function readCookie(name) {
  const prefix = `${name}=`;
  return document.cookie
    .split('; ')
    .find((cookie) => cookie.startsWith(prefix))
    ?.slice(prefix.length);
}

/**
 * Trades the refresh cookie for a new access token; Tessera rotates the cookie in the same answer.
 * The X-CSRF-TOKEN header repeats the csrf_refresh_token cookie: a page of another site cannot read
 * it, so it cannot refresh (both names are Tessera's defaults, JWT_REFRESH_CSRF_HEADER_NAME and
 * JWT_REFRESH_CSRF_COOKIE_NAME). Calls that fail together share one refresh.
 */
function refreshAccessToken() {
  refreshing ??= (async () => {
    const csrf = readCookie('csrf_refresh_token');
    if (csrf === undefined)
      throw new TesseraError({ message: 'Not signed in', extensions: { code: 'UNAUTHENTICATED' } });
    const { refresh } = await post(REFRESH, {}, { 'x-csrf-token': csrf });
    accessToken = refresh.accessToken;
    document.getElementById('refresh-count').textContent = String(++refreshCount);
  })().finally(() => (refreshing = null));
  return refreshing;
}

/** A call as the signed-in user: on TOKEN_EXPIRED, refresh and try once more. */
async function callAsUser(query, variables) {
  const attempt = () => post(query, variables, { authorization: `Bearer ${accessToken}` });
  try {
    return await attempt();
  } catch (error) {
    if (!(error instanceof TesseraError && error.reason === 'TOKEN_EXPIRED')) throw error;
    await refreshAccessToken();
    return attempt();
  }
}

// ----- The page: what it shows and what its buttons do. Text only, never HTML from the server.

const $ = (id) => document.getElementById(id);
const showStatus = (text) => ($('status').textContent = text);

function fillList(list, items) {
  list.replaceChildren(
    ...items.map((text) => {
      const item = document.createElement('li');
      item.textContent = text;
      return item;
    }),
  );
}

async function showAccount() {
  const { me, mySessions, myTasks } = await callAsUser(ACCOUNT);
  $('me-username').textContent = me.username;
  $('me-email').textContent = me.email;
  $('me-email-verified').textContent = me.emailVerified ? 'yes' : 'no';
  $('send-verification').hidden = me.emailVerified;
  $('me-roles').textContent = me.roles.join(', ');
  twoFactor.show(me.twoFactorEnabled === true);
  fillList(
    $('sessions'),
    mySessions.map((s) => `${s.current ? '(this one) ' : ''}${s.userAgent ?? 'unknown device'}, used ${s.lastUsedAt}`),
  );
  fillList(
    $('tasks'),
    myTasks.map((task) => `${task.done ? '✓ ' : ''}${task.title}`),
  );
  $('sign-in').hidden = true;
  $('forgot').hidden = true;
  $('account').hidden = false;
  showStatus(`Signed in as ${me.username}`);
}

function showSignedOut(text) {
  accessToken = null;
  mfaToken = null;
  twoFactor.reset();
  $('mfa-login').hidden = true;
  $('account').hidden = true;
  $('sign-in').hidden = false;
  $('forgot').hidden = false;
  showStatus(text);
}

function describe(error) {
  if (error instanceof TesseraError) return `${[error.code, error.reason].filter(Boolean).join(' ')}: ${error.message}`;
  // fetch rejects without a reason when the browser blocks the call (CORS, CSP) or nothing answers.
  return `Could not reach Tessera at ${GRAPHQL_URL}: ${error.message}`;
}

const hasReason = (error, reason) => error instanceof TesseraError && error.reason === reason;

/**
 * Runs a button's work and shows what failed. UNAUTHENTICATED after the refresh was tried (the
 * session ended, was revoked, or the password was wrong) means: sign in again; a wrong two-factor
 * code does not, the user types another.
 */
function run(work) {
  work().catch((error) => {
    const signedOut =
      error instanceof TesseraError && error.code === 'UNAUTHENTICATED' && !hasReason(error, 'MFA_CODE_INVALID');
    if (signedOut) showSignedOut(describe(error));
    else showStatus(describe(error));
  });
}

const twoFactor = setUpTwoFactorPanel({
  callAsUser,
  run,
  showStatus,
  describe,
  showAccount,
  hasReason,
  setAccessToken: (token) => (accessToken = token),
});

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  run(async () => {
    const username = $('username').value;
    const password = $('password').value;
    // COOKIE: the refresh token goes into the HttpOnly cookie, and the body's refreshToken is null.
    if (event.submitter?.value === 'login') {
      const signedIn = await logIn({ usernameOrEmail: username, password, transport: 'COOKIE' });
      if (!signedIn) return;
    } else {
      const signedUp = await signUpOrRegister({ username, email: $('email').value, password, transport: 'COOKIE' });
      if (!signedUp) return;
    }
    $('password').value = '';
    await showAccount();
  });
});

/**
 * login; for an account with two-factor the password is only the first step: Tessera answers
 * MFA_REQUIRED with a challenge, and the page asks for a code. False then.
 */
async function logIn(input) {
  try {
    accessToken = (await post(LOGIN, { input })).login.accessToken;
    return true;
  } catch (error) {
    if (!hasReason(error, 'MFA_REQUIRED')) throw error;
    $('password').value = '';
    askForSecondFactor(error.extensions.mfaToken);
    return false;
  }
}

let usingRecoveryCode = false;

function askForSecondFactor(challenge) {
  mfaToken = challenge;
  useRecoveryCode(false);
  $('sign-in').hidden = true;
  $('forgot').hidden = true;
  $('mfa-login').hidden = false;
  $('mfa-code').focus();
  showStatus('Enter the code from your authenticator app');
}

function useRecoveryCode(yes) {
  usingRecoveryCode = yes;
  $('mfa-code-label').hidden = yes;
  $('mfa-recovery-code-label').hidden = !yes;
  $('use-recovery-code').textContent = yes ? 'Use a code from the app instead' : 'Use a recovery code instead';
  $(yes ? 'mfa-recovery-code' : 'mfa-code').focus();
}

$('use-recovery-code').addEventListener('click', () => useRecoveryCode(!usingRecoveryCode));
$('cancel-mfa').addEventListener('click', () => showSignedOut('Signed out'));

$('mfa-login').addEventListener('submit', (event) => {
  event.preventDefault();
  run(async () => {
    const proof = usingRecoveryCode
      ? { recoveryCode: $('mfa-recovery-code').value.trim() }
      : { code: $('mfa-code').value.trim() };
    $('mfa-code').value = '';
    $('mfa-recovery-code').value = '';
    try {
      // The challenge carries the login's COOKIE transport: the refresh cookie is set now.
      accessToken = (await post(COMPLETE_MFA_LOGIN, { mfaToken, ...proof })).completeMfaLogin.accessToken;
    } catch (error) {
      // A wrong code (MFA_CODE_INVALID) or RATE_LIMITED keeps the prompt; a dead challenge does not.
      if (hasReason(error, 'TOKEN_EXPIRED'))
        return showSignedOut(`The code came too late: log in again (${describe(error)})`);
      if (hasReason(error, 'TOKEN_INVALID'))
        return showSignedOut(`This sign-in is over: log in again (${describe(error)})`);
      throw error;
    }
    mfaToken = null;
    $('mfa-login').hidden = true;
    await showAccount();
  });
});

/**
 * signup where it is open; where SIGNUP_MODE=verified it is refused, and register makes the account
 * without saying whether the address already had one: the mail says the rest. False then.
 */
async function signUpOrRegister(input) {
  try {
    accessToken = (await post(SIGNUP, { input })).signup.accessToken;
    return true;
  } catch (error) {
    if (!(error instanceof TesseraError && error.reason === 'SIGNUP_DISABLED')) throw error;
    await post(REGISTER, { input });
    $('password').value = '';
    showStatus(`Check the inbox of ${input.email}: the link in the mail finishes the sign-up`);
    return false;
  }
}

$('forgot').addEventListener('submit', (event) => {
  event.preventDefault();
  run(async () => {
    // Always true: the answer does not tell whether the address has an account.
    await post(REQUEST_RESET, { email: $('forgot-email').value });
    showStatus(`If ${$('forgot-email').value} has an account, a reset link is on its way`);
  });
});

$('send-verification').addEventListener('click', () =>
  run(async () => {
    await callAsUser(REQUEST_VERIFICATION);
    showStatus(`A verification link is on its way to ${$('me-email').textContent}`);
  }),
);

$('change-email').addEventListener('submit', (event) => {
  event.preventDefault();
  run(async () => {
    const newEmail = $('new-email').value;
    await callAsUser(REQUEST_EMAIL_CHANGE, { newEmail, password: $('change-email-password').value });
    $('change-email-password').value = '';
    showStatus(`A link to confirm is on its way to ${newEmail}`);
  });
});

$('new-task').addEventListener('submit', (event) => {
  event.preventDefault();
  run(async () => {
    await callAsUser(CREATE_TASK, { title: $('task-title').value });
    $('task-title').value = '';
    await showAccount();
  });
});

// Tessera ends the session and clears both cookies.
$('logout').addEventListener('click', () =>
  run(async () => {
    await callAsUser(LOGOUT);
    showSignedOut('Signed out');
  }),
);

// On load: the csrf cookie says a session may be there; the refresh cookie alone restores it.
async function restoreSession(message) {
  if (readCookie('csrf_refresh_token') === undefined) return showSignedOut(message ?? 'Signed out');
  try {
    await refreshAccessToken();
    await showAccount();
    if (message) showStatus(message);
  } catch (error) {
    showSignedOut(error instanceof TesseraError && error.code === 'UNAUTHENTICATED' ? 'Signed out' : describe(error));
  }
}

// ----- The pages the mailed links open (Tessera's default MAIL_*_PATH values). Each shows one
// button; only the button uses the token, since mail scanners open links too.

const LINK_PAGES = {
  '/verify-email': {
    form: 'verify-email',
    async use(token) {
      await post(VERIFY, { token });
      await restoreSession('Your email address is verified');
    },
  },
  '/reset-password': {
    form: 'reset-password',
    async use(token) {
      const { resetPassword } = await post(RESET, { token, newPassword: $('new-password').value });
      accessToken = resetPassword.accessToken;
      await showAccount();
      showStatus('Your password is set; every other session was signed out');
    },
  },
  '/confirm-email-change': {
    form: 'confirm-email-change',
    async use(token) {
      await post(CONFIRM_EMAIL_CHANGE, { token });
      await restoreSession('Your account now uses this address');
    },
  },
};

function openLinkPage(page, token) {
  // Out of the address bar and the history, so the token is not left where others may look.
  const kept = new URLSearchParams(location.search);
  kept.delete('token');
  history.replaceState(null, '', kept.size > 0 ? `/?${kept}` : '/');
  const form = $(page.form);
  form.hidden = false;
  showStatus('');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    run(async () => {
      await page.use(token);
      form.hidden = true;
    });
  });
}

const linkPage = LINK_PAGES[location.pathname];
const linkToken = new URLSearchParams(location.search).get('token');
if (linkPage && linkToken) openLinkPage(linkPage, linkToken);
else void restoreSession();
