// requestPasswordReset's work in one statement, the same for an address with an account and one
// without: the request is recorded either way, and for an active account its previous reset links
// are retired, a new one issued and its mail queued. The caller makes the token and the link
// either way too, so that nothing but the rows written tells the two apart.
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { OneTimeTokenPurpose } from '../db/entities/index.js';
import { MailKind } from '../mail/mail-kind.js';
import { queueMailSql, type QueueMailParams } from '../mail/outbox.js';
import { AuthEventKind, recordUserEventSql, statementRecorded, type UserEventParams } from './audit.js';
import { NO_FLUSH_CTE } from './counters.js';
import { namedSql } from './named-sql.js';
import { issueTokenSql, type IssueTokenParams } from './one-time-tokens.js';

interface ResetLinkParams extends IssueTokenParams, QueueMailParams, UserEventParams {
  emailKey: string;
  link: string;
}

// The mail's params are MailParams[PASSWORD_RESET]: { username, link }. Not flushed: a crash may
// forget the request, which its user then repeats, and the reset that redeems it flushes it first.
const QUEUE_RESET_LINK = namedSql<ResetLinkParams>(`with ${NO_FLUSH_CTE}, target as (
    select id, username, email, is_active from users where email_key = :emailKey
  ), active as (
    select id, username, email from target where is_active
  ), recorded as (
    ${recordUserEventSql('target')}
  ), ${issueTokenSql('active')}, queued as (
    ${queueMailSql('active', "jsonb_build_object('username', username, 'link', :link::text)")}
  )
  select (select id from target) as user_id from no_flush`);

export interface ResetLinkRequest {
  emailKey: string;
  tokenHash: string;
  /** The link holding the token, for the mail. */
  link: string;
  ttlSeconds: number;
  ip: string | null;
}

export async function queueResetLink(pool: pg.Pool, request: ResetLinkRequest): Promise<void> {
  const now = new Date();
  const { rows } = await pool.query<{ user_id: string | null }>({
    name: 'queue-reset-link',
    text: QUEUE_RESET_LINK.text,
    values: QUEUE_RESET_LINK.values({
      emailKey: request.emailKey,
      link: request.link,
      eventType: AuthEventKind.PASSWORD_RESET_REQUESTED,
      eventIp: request.ip,
      eventAt: now,
      tokenId: randomUUID(),
      tokenPurpose: OneTimeTokenPurpose.PASSWORD_RESET,
      tokenHash: request.tokenHash,
      tokenAt: now,
      tokenExpiresAt: new Date(now.getTime() + request.ttlSeconds * 1000),
      mailId: randomUUID(),
      mailKind: MailKind.PASSWORD_RESET,
      mailAt: now,
    }),
  });
  statementRecorded(pool, { type: AuthEventKind.PASSWORD_RESET_REQUESTED, userId: rows[0]?.user_id, ip: request.ip });
}
