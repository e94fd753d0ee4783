import type { Config } from '../config.js';
import type { AdditionalClaimsLoader } from './additional-claims.js';
import { AccountAdministration } from './account-administration.js';
import { createStatementPool } from '../db/statement-pool.js';
import { AccountService } from './accounts.js';
import { LoginStatements } from './login-statements.js';
import { PasswordHasher } from './passwords.js';
import { PrincipalService } from './principal.js';
import { SessionService } from './sessions.js';
import { Throttle } from './throttle.js';
import { TokenService } from './tokens.js';

/** The auth services, built once per server from Config. */
export interface AuthServices {
  readonly tokens: TokenService;
  readonly passwords: PasswordHasher;
  readonly sessions: SessionService;
  readonly accounts: AccountService;
  readonly administration: AccountAdministration;
  readonly principals: PrincipalService;
  readonly throttle: Throttle;
  /** Releases what the services hold open (the statement pool's connections). */
  close(): Promise<void>;
}

export interface AuthServiceOptions {
  /** Extra claims for every access token; the application's own loader when not given. */
  readonly additionalClaims?: AdditionalClaimsLoader;
}

export function createAuthServices(
  config: Config,
  databaseUrl: string,
  options: AuthServiceOptions = {},
): AuthServices {
  const tokens = new TokenService(config.jwt, options.additionalClaims, config.authCacheTtlSeconds);
  const passwords = new PasswordHasher(config.argon2);
  const statementPool = createStatementPool(databaseUrl);
  const throttle = new Throttle(statementPool, config.throttle);
  const principals = new PrincipalService(tokens, config.sessions, config.authCacheTtlSeconds);
  const sessions = new SessionService(tokens, principals, config.jwt, config.sessions, throttle);
  return {
    tokens,
    passwords,
    sessions,
    accounts: new AccountService(passwords, sessions, throttle, new LoginStatements(statementPool), principals),
    administration: new AccountAdministration(sessions, principals),
    principals,
    throttle,
    close: () => statementPool.end(),
  };
}
