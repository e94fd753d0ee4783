import { BigIntType, OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * The audit trail. userId and sessionId are plain columns, not foreign keys, so that the record
 * of what happened outlives a deleted account. Never holds a password or a token.
 */
@Entity({ tableName: 'auth_events' })
@Index({ name: 'auth_events_user_id_id_index', properties: ['userId', 'id'] })
@Index({ name: 'auth_events_created_at_index', properties: ['createdAt'] })
export class AuthEvent {
  [OptionalProps]?: 'id' | 'createdAt' | 'userId' | 'actorId' | 'sessionId' | 'ip';

  /** Increasing: "newest first" is a stable order even within one millisecond. */
  @PrimaryKey({ type: new BigIntType('string'), autoincrement: true })
  id!: string;

  @Property({ type: types.string, length: 40 })
  type!: string;

  @Property({ type: types.uuid, nullable: true })
  userId: string | null = null;

  /** Who acted, when it is not the user themself (an ADMIN changing roles, say). */
  @Property({ type: types.uuid, nullable: true })
  actorId: string | null = null;

  @Property({ type: types.uuid, nullable: true })
  sessionId: string | null = null;

  @Property({ type: types.string, length: 64, nullable: true })
  ip: string | null = null;

  @Property({ type: types.datetime })
  createdAt: Date = new Date();
}
