import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, OneToOne, Property } from '@mikro-orm/decorators/legacy';
import { User } from './user.entity.js';

/**
 * A user's authenticator-app secret: pending from startTotpEnrollment until a code confirms it,
 * then active. At most one per user. The secret is stored only encrypted (src/auth/mfa/secret-box.ts).
 */
@Entity({ tableName: 'totp_factors' })
export class TotpFactor {
  [OptionalProps]?: 'confirmedAt' | 'lastUsedStep' | 'createdAt';

  @OneToOne(() => User, { primary: true, owner: true, deleteRule: 'cascade', fieldName: 'user_id' })
  user!: User;

  /** AES-256-GCM ciphertext of the 160-bit secret, with its key's id and nonce; bound to the user. */
  @Property({ type: types.text })
  secretCiphertext!: string;

  /** Null while the enrolment is pending. */
  @Property({ type: types.datetime, nullable: true })
  confirmedAt: Date | null = null;

  /** The RFC 6238 time step of the last code accepted: a code of this step or earlier is refused (replay). */
  @Property({ type: types.bigint, nullable: true })
  lastUsedStep: string | null = null;

  @Property({ type: types.datetime })
  createdAt: Date = new Date();
}
