/** Every mail Tessera sends; each has its template in templates.ts. */
export enum MailKind {
  /** A link to verifyEmail: after register, or asked for by requestEmailVerification or a refused login. */
  EMAIL_VERIFICATION = 'EMAIL_VERIFICATION',
  /** A link to resetPassword. */
  PASSWORD_RESET = 'PASSWORD_RESET',
  /** A link to confirmEmailChange, sent to the new address. */
  EMAIL_CHANGE = 'EMAIL_CHANGE',
  /** To an address that already has an account, when someone registers with it or moves another account to it. No link. */
  SIGNUP_ATTEMPT = 'SIGNUP_ATTEMPT',
  /** Notice: the password was changed (by its owner) or reset (through a mailed link). No link. */
  PASSWORD_CHANGED = 'PASSWORD_CHANGED',
  /** Notice to the old address: the account moved to another. No link. */
  EMAIL_CHANGED = 'EMAIL_CHANGED',
  /** Notice: an authenticator app now guards the account. No link. */
  TWO_FACTOR_ENABLED = 'TWO_FACTOR_ENABLED',
  /** Notice: two-factor was removed from the account. No link. */
  TWO_FACTOR_DISABLED = 'TWO_FACTOR_DISABLED',
  /** Notice: a recovery code was used to sign in or confirm a change. No code, no link. */
  RECOVERY_CODE_USED = 'RECOVERY_CODE_USED',
}

/** What each kind's template is given. `link` is the only secret a mail may carry. */
export interface MailParams {
  [MailKind.EMAIL_VERIFICATION]: { username: string; link: string };
  [MailKind.PASSWORD_RESET]: { username: string; link: string };
  [MailKind.EMAIL_CHANGE]: { username: string; link: string };
  [MailKind.SIGNUP_ATTEMPT]: { attempt: 'register' | 'email-change' };
  [MailKind.PASSWORD_CHANGED]: { username: string; how: 'changed' | 'reset' };
  /** `newEmail` masked (j***@example.com): the old address need not learn the new one. */
  [MailKind.EMAIL_CHANGED]: { username: string; newEmail: string };
  [MailKind.TWO_FACTOR_ENABLED]: { username: string };
  [MailKind.TWO_FACTOR_DISABLED]: { username: string };
  /** `remaining`: the unused recovery codes left. */
  [MailKind.RECOVERY_CODE_USED]: { username: string; remaining: number };
}
