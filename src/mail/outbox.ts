// The outbox: a mail is a row queued in the transaction of the change that causes it, so that the
// change and its mail commit together or not at all. The worker (worker.ts) sends it later.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { MailConfig, MailLinkFlow } from '../config.js';
import { MailStatus, OutboxMail } from '../db/entities/index.js';
import type { MailKind, MailParams } from './mail-kind.js';

export interface MailToQueue<K extends MailKind = MailKind> {
  kind: K;
  to: string;
  params: MailParams[K];
}

/** The placeholders of `queueMailSql`. */
export interface QueueMailParams {
  mailId: string;
  mailKind: MailKind;
  mailAt: Date;
}

/**
 * An insert (for a WITH list) queueing one mail of `:mailKind` to each row `recipients` (a CTE
 * with an `email` column, and its condition) yields, with `params` (a jsonb SQL expression over
 * that row): the statement-level twin of Outbox.queue, for a hand-written statement.
 */
export function queueMailSql(recipients: string, params: string): string {
  return `insert into mail_outbox (id, kind, recipient, params, status, attempts, next_attempt_at, created_at)
    select :mailId, :mailKind, email, ${params}, '${MailStatus.PENDING}', 0, :mailAt, :mailAt from ${recipients}`;
}

export class Outbox {
  constructor(private readonly settings: MailConfig) {}

  /** MAIL_FLOWS: when off, nothing is ever queued. */
  get enabled(): boolean {
    return this.settings.enabled;
  }

  /** Persists the mail in `em`'s unit of work: it is written when `em` flushes, with the rest. */
  queue<K extends MailKind>(em: EntityManager, mail: MailToQueue<K>): void {
    if (!this.settings.enabled) return;
    em.persist(em.create(OutboxMail, { kind: mail.kind, recipient: mail.to, params: { ...mail.params } }));
  }

  /** The front-end's page for `flow` (APP_URL + its path), carrying the token; opening it consumes nothing. */
  link(flow: MailLinkFlow, token: string): string {
    return `${this.settings.appUrl}${this.settings.linkPaths[flow]}?token=${encodeURIComponent(token)}`;
  }
}
