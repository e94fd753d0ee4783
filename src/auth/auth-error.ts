/**
 * Why an authentication or account operation was refused. These names are the public
 * `extensions.reason` values: clients branch on them, so they never change meaning.
 */
export enum AuthFailure {
  TOKEN_MISSING = 'TOKEN_MISSING',
  TOKEN_INVALID = 'TOKEN_INVALID',
  TOKEN_EXPIRED = 'TOKEN_EXPIRED',
  /** The token's session was revoked or is gone, or its user was disabled or deleted. */
  TOKEN_REVOKED = 'TOKEN_REVOKED',
  SESSION_EXPIRED = 'SESSION_EXPIRED',
  REFRESH_TOKEN_REUSED = 'REFRESH_TOKEN_REUSED',
  FRESH_TOKEN_REQUIRED = 'FRESH_TOKEN_REQUIRED',
  /** One reason for unknown user and wrong password: no account enumeration. */
  INVALID_CREDENTIALS = 'INVALID_CREDENTIALS',
  ACCOUNT_DISABLED = 'ACCOUNT_DISABLED',
  INVALID_EMAIL = 'INVALID_EMAIL',
  INVALID_USERNAME = 'INVALID_USERNAME',
  WEAK_PASSWORD = 'WEAK_PASSWORD',
  ACCOUNT_EXISTS = 'ACCOUNT_EXISTS',
  /** A cookie-borne token without its CSRF value, or from a page on another origin. */
  CSRF_FAILED = 'CSRF_FAILED',
  /** COOKIE transport asked for by a page on an origin that may not call with credentials. */
  ORIGIN_NOT_ALLOWED = 'ORIGIN_NOT_ALLOWED',
  /** REQUIRE_VERIFIED_EMAIL: the password was right, the address is not verified yet (a new link is on its way). */
  EMAIL_NOT_VERIFIED = 'EMAIL_NOT_VERIFIED',
  /** SIGNUP_MODE=verified: accounts are made by `register`, which reveals nothing. */
  SIGNUP_DISABLED = 'SIGNUP_DISABLED',
  /** MAIL_FLOWS=off: the flows that need mail are not offered. */
  MAIL_DISABLED = 'MAIL_DISABLED',
  /**
   * A second factor is needed: the password was right (login, reauthenticate), or the field needs
   * aal 2. `extensions.mfaToken` holds the challenge for completeMfaLogin.
   */
  MFA_REQUIRED = 'MFA_REQUIRED',
  /** The field needs aal 2 and the user has no second factor: enrol first (startTotpEnrollment). */
  MFA_ENROLLMENT_REQUIRED = 'MFA_ENROLLMENT_REQUIRED',
  /** The authenticator code or recovery code is wrong, already used, or outside the drift window. */
  MFA_CODE_INVALID = 'MFA_CODE_INVALID',
  /** startTotpEnrollment with a confirmed factor: disable it first. */
  MFA_ALREADY_ENABLED = 'MFA_ALREADY_ENABLED',
  /** confirmTotpEnrollment with no pending enrolment, or a two-factor operation on an account without it. */
  MFA_NOT_ENABLED = 'MFA_NOT_ENABLED',
  /** TWO_FACTOR=off: enrolment is not offered. */
  MFA_DISABLED = 'MFA_DISABLED',
}

/** Failures that are a refusal of the operation itself, whoever asks. */
export const FORBIDDEN_FAILURES: ReadonlySet<AuthFailure> = new Set([
  AuthFailure.SIGNUP_DISABLED,
  AuthFailure.MAIL_DISABLED,
  AuthFailure.MFA_ALREADY_ENABLED,
  AuthFailure.MFA_NOT_ENABLED,
  AuthFailure.MFA_DISABLED,
]);

/** Failures that are the client's input, not its identity (and any failure naming an input field). */
export const INPUT_FAILURES: ReadonlySet<AuthFailure> = new Set([
  AuthFailure.INVALID_EMAIL,
  AuthFailure.INVALID_USERNAME,
  AuthFailure.WEAK_PASSWORD,
  AuthFailure.ACCOUNT_EXISTS,
  AuthFailure.ORIGIN_NOT_ALLOWED,
]);

export class AuthError extends Error {
  constructor(
    readonly reason: AuthFailure,
    /** The public message: safe to show to the client. */
    readonly publicMessage: string,
    /** The input field at fault, for input failures. */
    readonly field?: string,
    /** Public extensions beyond the reason (MFA_REQUIRED's `mfaToken`). */
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(publicMessage);
    this.name = 'AuthError';
  }
}

/**
 * A mailed token (verification, reset, email change) that cannot be used: unknown, used, retired
 * or for another purpose are one answer; only an expired one is told apart. It is the `token`
 * argument at fault, so it is the client's input (BAD_USER_INPUT), unlike a bad access token.
 */
export function mailedTokenRefused(reason: AuthFailure.TOKEN_INVALID | AuthFailure.TOKEN_EXPIRED): AuthError {
  const message =
    reason === AuthFailure.TOKEN_EXPIRED ? 'This link has expired: ask for a new one' : 'This link is not valid';
  return new AuthError(reason, message, 'token');
}

/** The one answer to every token that fails a check: which check it failed is not the client's to know. */
export function tokenInvalid(): AuthError {
  return new AuthError(AuthFailure.TOKEN_INVALID, 'Token is invalid');
}

/** One answer for an unknown user and a wrong password: no account enumeration. */
export function invalidCredentials(): AuthError {
  return new AuthError(AuthFailure.INVALID_CREDENTIALS, 'Invalid username, email or password');
}
