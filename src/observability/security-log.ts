// The security event log: each audit event as one JSON line named from the OWASP Logging
// Vocabulary, so that a log pipeline can alert on `authn_token_reuse` without knowing Tessera.
// Only ids and the client address are written: the callers never have a secret to give.
import type { Logger } from '../logger.js';

/** The OWASP Logging Vocabulary names Tessera uses (session_revoked follows its session_* pattern). */
export type SecurityEventName =
  | 'authn_login_success'
  | 'authn_login_fail'
  | 'authn_password_change'
  | 'authn_token_created'
  | 'authn_token_delete'
  | 'authn_token_reuse'
  | 'authz_change'
  | 'session_renewed'
  | 'session_revoked'
  | 'user_created'
  | 'user_updated'
  | 'user_archived'
  | 'user_deleted';

export interface SecurityEvent {
  name: SecurityEventName;
  /** Tessera's own kind of the event (the audit row's type). */
  kind: string;
  userId: string | null;
  /** Set when someone other than the user acted on the account. */
  actorId: string | null;
  sessionId: string | null;
  ip: string | null;
}

export class SecurityLog {
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger.child({ log: 'security' });
  }

  write(event: SecurityEvent): void {
    this.logger.info(
      {
        event: event.name,
        kind: event.kind,
        userId: event.userId,
        actorId: event.actorId,
        sessionId: event.sessionId,
        ip: event.ip,
      },
      event.name,
    );
  }
}
