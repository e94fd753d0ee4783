import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';

/**
 * The audit trail. userId and sessionId are plain columns, not foreign keys, so that the record
 * of what happened outlives a deleted account. Never holds a password or a token.
 */
@Entity({ tableName: 'auth_events' })
@Index({ name: 'auth_events_created_at_index', properties: ['createdAt'] })
@Index({ name: 'auth_events_user_id_created_at_index', properties: ['userId', 'createdAt'] })
export class AuthEvent {
  [OptionalProps]?: 'id' | 'createdAt' | 'userId' | 'sessionId' | 'ip';

  @PrimaryKey({ type: types.uuid })
  id: string = randomUUID();

  @Property({ type: types.string, length: 40 })
  type!: string;

  @Property({ type: types.uuid, nullable: true })
  userId: string | null = null;

  @Property({ type: types.uuid, nullable: true })
  sessionId: string | null = null;

  @Property({ type: types.string, length: 64, nullable: true })
  ip: string | null = null;

  @Property({ type: types.datetime })
  createdAt: Date = new Date();
}
