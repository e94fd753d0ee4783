import type pg from 'pg';
import type { Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import type { AuthObserver } from '../observability/metrics.js';
import { Outbox } from '../mail/outbox.js';
import type { AdditionalClaimsLoader } from './additional-claims.js';
import { AccountAdministration } from './account-administration.js';
import {
  createStatementPool,
  DEFERRED_STATEMENT_CONNECTIONS,
  DEFERRED_STATEMENT_WAIT_MS,
  REQUEST_STATEMENT_WAIT_MS,
} from '../db/statement-pool.js';
import { AccountService } from './accounts.js';
import { EmailVerification } from './email-verification.js';
import { LoginStatements } from './login-statements.js';
import { ChallengeAttempts } from './mfa/challenge-attempts.js';
import { MfaChallenges } from './mfa/challenges.js';
import { OneTimeTokens } from './one-time-tokens.js';
import { PasswordReset } from './password-reset.js';
import { PasswordHasher } from './passwords.js';
import { PrincipalService } from './principal.js';
import { RefreshStatement } from './refresh-statement.js';
import { SessionService } from './sessions.js';
import { Throttle } from './throttle.js';
import { TokenService } from './tokens.js';
import { EmailChangeService } from './email-change.js';
import { RegistrationService } from './registration.js';
import { ViewerPasswordCheck } from './viewer-password.js';
import { TwoFactorEnrollment } from './mfa/enrollment.js';
import { RecoveryCodes } from './mfa/recovery-codes.js';
import { SecondFactor } from './mfa/second-factor.js';
import { SecretBox } from './mfa/secret-box.js';
import { TotpCodes } from './mfa/totp.js';

/** The auth services, built once per server from Config. */
export interface AuthServices {
  readonly tokens: TokenService;
  readonly passwords: PasswordHasher;
  readonly sessions: SessionService;
  readonly accounts: AccountService;
  readonly administration: AccountAdministration;
  readonly principals: PrincipalService;
  readonly throttle: Throttle;
  readonly oneTimeTokens: OneTimeTokens;
  readonly outbox: Outbox;
  readonly emailVerification: EmailVerification;
  readonly passwordReset: PasswordReset;
  readonly registration: RegistrationService;
  readonly emailChange: EmailChangeService;
  /** The second-factor check (an authenticator code or a recovery code) every two-factor flow shares. */
  readonly secondFactor: SecondFactor;
  /** Enrolment and removal of the second factor. */
  readonly twoFactor: TwoFactorEnrollment;
  /** The second factor's challenges: login's MFA_REQUIRED, completeMfaLogin, step-up. */
  readonly challenges: MfaChallenges;
  /** The pg pools of the hand-written statements, a request's and those run after its answer (their audit rows, their gauges). */
  readonly statementPools: { readonly requests: pg.Pool; readonly deferred: pg.Pool };
  /** Waits for work accepted by a request but finished after it, then releases the statement pools' connections. */
  close(): Promise<void>;
}

export interface AuthServiceOptions {
  /** Extra claims for every access token; the application's own loader when not given. */
  readonly additionalClaims?: AdditionalClaimsLoader;
  /** Where work finished after its request reports a failure; a logger from Config when not given. */
  readonly logger?: Logger;
  /** Where hashing times and session revocations are reported; nowhere when not given. */
  readonly observer?: AuthObserver;
}

export function createAuthServices(
  config: Config,
  databaseUrl: string,
  options: AuthServiceOptions = {},
): AuthServices {
  const tokens = new TokenService(
    config.jwt,
    options.additionalClaims,
    config.authCacheTtlSeconds,
    config.mfa.challengeTtlSeconds,
  );
  const passwords = new PasswordHasher(config.argon2, options.observer);
  const logger = options.logger ?? createLogger(config);
  const statementPool = createStatementPool(databaseUrl, config.databaseStatementPoolSize, REQUEST_STATEMENT_WAIT_MS);
  const deferredStatementPool = createStatementPool(
    databaseUrl,
    DEFERRED_STATEMENT_CONNECTIONS,
    DEFERRED_STATEMENT_WAIT_MS,
  );
  const throttle = new Throttle(statementPool, config.throttle);
  const principals = new PrincipalService(tokens, config.sessions, config.authCacheTtlSeconds);
  const sessions = new SessionService(
    tokens,
    principals,
    config.jwt,
    config.sessions,
    throttle,
    new RefreshStatement(statementPool, (error) =>
      logger.error({ err: error }, 'counting a refresh attempt failed; its decision stands'),
    ),
    options.observer,
  );
  const oneTimeTokens = new OneTimeTokens();
  const outbox = new Outbox(config.mail);
  const loginStatements = new LoginStatements(statementPool);
  const viewerPassword = new ViewerPasswordCheck(passwords, throttle, loginStatements);
  const flows = config.accountFlows;
  const registration = new RegistrationService(passwords, throttle, outbox, flows);
  const mfa = config.mfa;
  const secretBox = new SecretBox(mfa.encryptionKey, mfa.previousEncryptionKeys);
  const totpCodes = new TotpCodes(secretBox);
  const recoveryCodes = new RecoveryCodes(mfa.encryptionKey, mfa.previousEncryptionKeys);
  const secondFactor = new SecondFactor(totpCodes, recoveryCodes, throttle, outbox, statementPool);
  const challenges = new MfaChallenges(
    tokens,
    secondFactor,
    sessions,
    principals,
    loginStatements,
    new ChallengeAttempts(statementPool, config.mfa.challengeAttempts),
    statementPool,
  );
  const passwordReset = new PasswordReset(
    oneTimeTokens,
    outbox,
    flows,
    passwords,
    sessions,
    principals,
    throttle,
    logger,
    deferredStatementPool,
    challenges,
  );
  return {
    tokens,
    passwords,
    sessions,
    accounts: new AccountService(
      passwords,
      sessions,
      throttle,
      loginStatements,
      principals,
      oneTimeTokens,
      outbox,
      flows,
      viewerPassword,
      challenges,
    ),
    administration: new AccountAdministration(sessions, principals),
    principals,
    throttle,
    statementPools: { requests: statementPool, deferred: deferredStatementPool },
    oneTimeTokens,
    outbox,
    emailVerification: new EmailVerification(oneTimeTokens, registration, outbox, flows, principals, throttle),
    passwordReset,
    registration,
    emailChange: new EmailChangeService(viewerPassword, oneTimeTokens, outbox, flows, principals, throttle),
    secondFactor,
    twoFactor: new TwoFactorEnrollment(
      mfa,
      secretBox,
      totpCodes,
      recoveryCodes,
      secondFactor,
      throttle,
      sessions,
      principals,
      outbox,
      statementPool,
    ),
    challenges,
    close: async () => {
      await passwordReset.settle();
      await Promise.all([statementPool.end(), deferredStatementPool.end()]);
    },
  };
}
