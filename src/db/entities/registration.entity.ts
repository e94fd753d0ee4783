import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';

/**
 * A `register` whose link has not been followed yet: the account it will become once the mail is
 * read. It takes no username and no address, so nobody learns from it whether the address had an
 * account. One per address: a newer registration replaces it.
 */
@Entity({ tableName: 'registrations' })
@Index({ name: 'registrations_expires_at_index', properties: ['expiresAt'] })
export class Registration {
  [OptionalProps]?: 'id' | 'createdAt';

  @PrimaryKey({ type: types.uuid })
  id: string = randomUUID();

  @Property({ type: types.string, length: 32 })
  username!: string;

  @Property({ type: types.string, length: 32 })
  usernameKey!: string;

  @Property({ type: types.string, length: 254 })
  email!: string;

  @Property({ type: types.string, length: 254, unique: 'registrations_email_key_unique' })
  emailKey!: string;

  /** argon2id PHC string, moved to the account as it is. */
  @Property({ type: types.text })
  passwordHash!: string;

  /** Hex SHA-256 of the mailed token, as for the one-time tokens. */
  @Property({ type: types.string, length: 64, unique: 'registrations_token_hash_unique' })
  tokenHash!: string;

  @Property({ type: types.datetime })
  createdAt: Date = new Date();

  @Property({ type: types.datetime })
  expiresAt!: Date;
}
