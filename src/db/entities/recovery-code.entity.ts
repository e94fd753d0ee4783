import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';
import { User } from './user.entity.js';

/** One of a user's single-use recovery codes. Only a keyed hash of the code is kept (src/auth/mfa/recovery-codes.ts). */
@Entity({ tableName: 'recovery_codes' })
@Index({ name: 'recovery_codes_user_id_index', properties: ['user'] })
export class RecoveryCode {
  [OptionalProps]?: 'id' | 'usedAt' | 'createdAt';

  @PrimaryKey({ type: types.uuid })
  id: string = randomUUID();

  @ManyToOne(() => User, { deleteRule: 'cascade' })
  user!: User;

  /** Hex HMAC-SHA-256 of the normalised code, under a key derived from MFA_ENCRYPTION_KEY. */
  @Property({ type: types.string, length: 64 })
  codeHash!: string;

  @Property({ type: types.datetime, nullable: true })
  usedAt: Date | null = null;

  @Property({ type: types.datetime })
  createdAt: Date = new Date();
}
