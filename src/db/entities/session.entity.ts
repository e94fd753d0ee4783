import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';
import { TokenTransport } from './token-transport.enum.js';
import { User } from './user.entity.js';

/**
 * One login: the family of refresh tokens descended from it. Only the current refresh token's
 * jti and its immediate parent are kept; anything older presented again is reuse.
 */
@Entity({ tableName: 'sessions' })
@Index({ name: 'sessions_user_id_index', properties: ['user'] })
@Index({ name: 'sessions_expires_at_index', properties: ['expiresAt'] })
// Partial: the purge reads revoked rows only, and live sessions (revoked_at null) stay out of it.
@Index({
  name: 'sessions_revoked_at_index',
  properties: ['revokedAt'],
  expression: `create index "sessions_revoked_at_index" on "sessions" ("revoked_at") where "revoked_at" is not null`,
})
export class Session {
  [OptionalProps]?:
    | 'id'
    | 'createdAt'
    | 'lastUsedAt'
    | 'previousRefreshJti'
    | 'rotatedAt'
    | 'generation'
    | 'transport'
    | 'aal'
    | 'amr'
    | 'revokedAt'
    | 'revokedReason'
    | 'userAgent'
    | 'ip';

  @PrimaryKey({ type: types.uuid })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  @Property({ type: types.uuid })
  refreshJti!: string;

  /** The parent of the current refresh token: honoured again only inside the reuse interval. */
  @Property({ type: types.uuid, nullable: true })
  previousRefreshJti: string | null = null;

  /**
   * When previousRefreshJti was rotated away by a refresh; null beside a previousRefreshJti means
   * a credential change retired it, and it gets no grace window.
   */
  @Property({ type: types.datetime, nullable: true })
  rotatedAt: Date | null = null;

  /** Bumped by a credential change: access tokens whose `gen` is lower are refused. */
  @Property({ type: types.integer, default: 0 })
  generation: number = 0;

  /** Chosen at login, kept for the session's life. */
  @Property({ type: types.string, length: 8, default: TokenTransport.BODY })
  transport: TokenTransport = TokenTransport.BODY;

  /** NIST's authenticator assurance level the session reached: 2 once a second factor was proven. Kept by refreshes. */
  @Property({ type: types.smallint, default: 1 })
  aal: number = 1;

  /** RFC 8176 methods proven for this session (`pwd`, `otp`, `rec`), as its access tokens carry them. */
  @Property({ type: types.array, defaultRaw: "'{pwd}'" })
  amr: string[] = ['pwd'];

  @Property({ type: types.datetime })
  createdAt: Date = new Date();

  @Property({ type: types.datetime })
  lastUsedAt: Date = new Date();

  /** Absolute: set at login, never moved by rotation. */
  @Property({ type: types.datetime })
  expiresAt!: Date;

  @Property({ type: types.datetime, nullable: true })
  revokedAt: Date | null = null;

  @Property({ type: types.string, length: 40, nullable: true })
  revokedReason: string | null = null;

  @Property({ type: types.string, length: 512, nullable: true })
  userAgent: string | null = null;

  @Property({ type: types.string, length: 64, nullable: true })
  ip: string | null = null;
}
