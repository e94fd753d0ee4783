import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { OneTimeTokenPurpose } from '../db/entities/index.js';
import { MailKind } from '../mail/mail-kind.js';
import type { Outbox } from '../mail/outbox.js';
import type { OneTimeTokens } from './one-time-tokens.js';

export interface VerifiableUser {
  readonly id: string;
  readonly username: string;
  readonly email: string;
}

/**
 * Issues a verification token for the user's current address and queues its mail, both in
 * `tx`: on requestEmailVerification, and when a login is refused as unverified.
 */
export async function queueVerificationLink(
  tx: EntityManager,
  user: VerifiableUser,
  tokens: OneTimeTokens,
  outbox: Outbox,
  flows: Config['accountFlows'],
): Promise<void> {
  const token = await tokens.issue(
    tx,
    user.id,
    OneTimeTokenPurpose.EMAIL_VERIFICATION,
    user.email,
    flows.emailVerificationTtlSeconds,
  );
  queueVerificationMail(tx, outbox, user, token);
}

/** The verification mail with `token`'s link, queued in `tx`: for an account or a pending registration. */
export function queueVerificationMail(
  tx: EntityManager,
  outbox: Outbox,
  to: Pick<VerifiableUser, 'username' | 'email'>,
  token: string,
): void {
  outbox.queue(tx, {
    kind: MailKind.EMAIL_VERIFICATION,
    to: to.email,
    params: { username: to.username, link: outbox.link('verifyEmail', token) },
  });
}
