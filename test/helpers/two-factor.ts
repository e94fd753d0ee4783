// Two-factor accounts for the login tests: enrolled through the API like a user would, with codes
// from otplib (an implementation independent of Tessera's), and the operations they send.
import { generateSync } from 'otplib';
import type { AuthPayload, GraphQLResult } from './graphql-client.js';
import { PASSWORD, sleep } from './session-helpers.js';
import type { TestServer } from './test-server.js';

const STEP_SECONDS = 30;
/** Nearer than this to a step's end, the previous step may be gone by the time the code arrives (a browser types it). */
const MARGIN_SECONDS = 5;

export const MFA_PAYLOAD =
  'accessToken refreshToken transport expiresIn refreshExpiresIn deviceToken user { id username twoFactorEnabled }';
export const COMPLETE_MFA_LOGIN = `mutation Complete($t: String!, $c: String, $r: String) {
  completeMfaLogin(mfaToken: $t, code: $c, recoveryCode: $r) { ${MFA_PAYLOAD} } }`;
export const REAUTHENTICATE_2FA = `mutation Reauth($p: String!, $c: String, $r: String) {
  reauthenticate(password: $p, code: $c, recoveryCode: $r) { ${MFA_PAYLOAD} } }`;
export const START_ENROLLMENT = 'mutation { startTotpEnrollment { secret otpauthUri qrCodeSvg } }';
export const CONFIRM_ENROLLMENT = 'mutation Confirm($c: String!) { confirmTotpEnrollment(code: $c) }';

/**
 * An authenticator app, for the API and the browser tests: codes from the secret, never one of a
 * step already used (Tessera refuses a replayed step, as it should). Within ±1 step of now; when
 * all three were used, it waits for the next.
 */
export class AuthenticatorApp {
  private lastStep = -Infinity;

  constructor(readonly secret: string) {}

  async nextCode(): Promise<string> {
    for (;;) {
      const now = Date.now() / 1000;
      const current = Math.floor(now / STEP_SECONDS);
      const earliest = now % STEP_SECONDS > STEP_SECONDS - MARGIN_SECONDS ? current : current - 1;
      const step = Math.max(this.lastStep + 1, earliest);
      if (step <= current + 1) {
        this.lastStep = step;
        return this.codeOfStep(step);
      }
      await sleep(((current + 1) * STEP_SECONDS - now) * 1000 + 200);
    }
  }

  /** A code for a step this app will not use again (to spend or to test a replay). */
  codeOfStep(step: number): string {
    return generateSync({ secret: this.secret, epoch: step * STEP_SECONDS + 1 });
  }

  /** A well-formed code that is none of the steps near now (±2, so a step ending meanwhile cannot make it right). */
  wrongCode(): string {
    const current = Math.floor(Date.now() / 1000 / STEP_SECONDS);
    const near = new Set([-2, -1, 0, 1, 2].map((offset) => this.codeOfStep(current + offset)));
    for (let guess = 0; ; guess++) {
      const code = String((123456 + guess * 7919) % 1_000_000).padStart(6, '0');
      if (!near.has(code)) return code;
    }
  }
}

export interface EnrolledUser {
  /** The signup's session (fresh, aal 1): it enrolled. */
  signup: AuthPayload;
  app: AuthenticatorApp;
  recoveryCodes: string[];
  username: string;
}

/** Signs up and turns two-factor on through the API, as the demo page does. */
export async function signupWithTwoFactor(server: TestServer, username: string): Promise<EnrolledUser> {
  const signup = await server.client.signup(username);
  const started = await server.client.request(START_ENROLLMENT, {}, { token: signup.accessToken });
  if (!started.data?.startTotpEnrollment) throw new Error(`enrolment failed: ${JSON.stringify(started.errors)}`);
  const app = new AuthenticatorApp(started.data.startTotpEnrollment.secret as string);
  const confirmed = await server.client.request(
    CONFIRM_ENROLLMENT,
    { c: await app.nextCode() },
    { token: signup.accessToken },
  );
  if (!confirmed.data?.confirmTotpEnrollment)
    throw new Error(`confirmation failed: ${JSON.stringify(confirmed.errors)}`);
  return { signup, app, recoveryCodes: confirmed.data.confirmTotpEnrollment as string[], username };
}

/** A login of a two-factor account: the MFA_REQUIRED answer's challenge. */
export async function loginChallenge(server: TestServer, username: string, password = PASSWORD): Promise<string> {
  const result = await server.client.login(username, password);
  const error = result.errors?.[0];
  if (error?.extensions?.reason !== 'MFA_REQUIRED') throw new Error(`expected MFA_REQUIRED: ${JSON.stringify(result)}`);
  return error.extensions.mfaToken as string;
}

export function completeMfaLogin(
  server: TestServer,
  mfaToken: string,
  proof: { code?: string; recoveryCode?: string },
): Promise<GraphQLResult> {
  return server.client.request(COMPLETE_MFA_LOGIN, { t: mfaToken, c: proof.code, r: proof.recoveryCode });
}

/** The completed login's payload, asserting it succeeded. */
export async function completedLogin(
  server: TestServer,
  mfaToken: string,
  proof: { code?: string; recoveryCode?: string },
): Promise<AuthPayload & { transport: string }> {
  const result = await completeMfaLogin(server, mfaToken, proof);
  if (!result.data?.completeMfaLogin) throw new Error(`completion failed: ${JSON.stringify(result.errors)}`);
  return result.data.completeMfaLogin as AuthPayload & { transport: string };
}
