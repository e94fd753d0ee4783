import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';
import { MailStatus } from './mail-status.enum.js';

/**
 * A mail waiting to be sent, or sent (kept until MAIL_RETENTION for the record). Queued in the
 * transaction of the change that causes it. `params` holds what the template needs, the link
 * included, and is cleared once the mail is sent or given up.
 */
@Entity({ tableName: 'mail_outbox' })
@Index({
  name: 'mail_outbox_pending_index',
  properties: ['nextAttemptAt'],
  expression: `create index "mail_outbox_pending_index" on "mail_outbox" ("next_attempt_at") where "status" = 'PENDING'`,
})
@Index({
  name: 'mail_outbox_finished_index',
  properties: ['createdAt'],
  expression: `create index "mail_outbox_finished_index" on "mail_outbox" ("created_at") where "status" <> 'PENDING'`,
})
export class OutboxMail {
  [OptionalProps]?: 'id' | 'status' | 'attempts' | 'nextAttemptAt' | 'lastError' | 'createdAt' | 'sentAt' | 'params';

  @PrimaryKey({ type: types.uuid })
  id: string = randomUUID();

  /** Which template (mail/templates.ts). */
  @Property({ type: types.string, length: 40 })
  kind!: string;

  @Property({ type: types.string, length: 254 })
  recipient!: string;

  @Property({ type: types.json, nullable: true })
  params: Record<string, string> | null = null;

  @Property({ type: types.string, length: 8, default: MailStatus.PENDING })
  status: MailStatus = MailStatus.PENDING;

  @Property({ type: types.integer, default: 0 })
  attempts: number = 0;

  /** When a worker may next claim it; a claim moves it forward by the lease, a failure by the backoff. */
  @Property({ type: types.datetime })
  nextAttemptAt: Date = new Date();

  /** The transport's last refusal, without the message or its link. */
  @Property({ type: types.text, nullable: true })
  lastError: string | null = null;

  @Property({ type: types.datetime })
  createdAt: Date = new Date();

  @Property({ type: types.datetime, nullable: true })
  sentAt: Date | null = null;
}
