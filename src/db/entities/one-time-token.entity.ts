import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';
import { OneTimeTokenPurpose } from './one-time-token-purpose.enum.js';
import { User } from './user.entity.js';

/**
 * A link sent by mail (email verification, password reset, email change): single use, one
 * purpose, one user. Only the SHA-256 of the token is kept; the token itself is in the mail alone.
 */
@Entity({ tableName: 'one_time_tokens' })
@Index({ name: 'one_time_tokens_user_id_purpose_index', properties: ['user', 'purpose'] })
@Index({ name: 'one_time_tokens_expires_at_index', properties: ['expiresAt'] })
export class OneTimeToken {
  [OptionalProps]?: 'id' | 'createdAt';

  @PrimaryKey({ type: types.uuid })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  @Property({ type: types.string, length: 24 })
  purpose!: OneTimeTokenPurpose;

  /** Hex SHA-256 of the token: 256 random bits need no slow hash. */
  @Property({ type: types.string, length: 64, unique: 'one_time_tokens_token_hash_unique' })
  tokenHash!: string;

  /** The address the link was sent to: verification proves this address, an email change moves to it. */
  @Property({ type: types.string, length: 254 })
  email!: string;

  @Property({ type: types.datetime })
  createdAt: Date = new Date();

  @Property({ type: types.datetime })
  expiresAt!: Date;
}
