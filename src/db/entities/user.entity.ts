import { OptionalProps, types } from '@mikro-orm/core';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { randomUUID } from 'node:crypto';
import { Role } from './role.enum.js';

@Entity({ tableName: 'users' })
// The order of the users list (oldest first, id breaking ties), its pages and its cursor.
@Index({ name: 'users_created_at_id_index', properties: ['createdAt', 'id'] })
export class User {
  [OptionalProps]?: 'id' | 'roles' | 'isActive' | 'emailVerifiedAt' | 'twoFactorEnabledAt' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: types.uuid })
  id: string = randomUUID();

  /** As the user typed it; shown to people. */
  @Property({ type: types.string, length: 32 })
  username!: string;

  /** Lower-cased username: uniqueness and login are case-insensitive. */
  @Property({ type: types.string, length: 32, unique: 'users_username_key_unique' })
  usernameKey!: string;

  @Property({ type: types.string, length: 254 })
  email!: string;

  /** Lower-cased email: uniqueness and login are case-insensitive. */
  @Property({ type: types.string, length: 254, unique: 'users_email_key_unique' })
  emailKey!: string;

  /** argon2id PHC string. Never exposed: the GraphQL User type is a separate class. */
  @Property({ type: types.text, lazy: false })
  passwordHash!: string;

  @Property({ type: types.array })
  roles: Role[] = [Role.USER];

  /** When the user proved they read mail at `email`; null until then, and again after a change of address. */
  @Property({ type: types.datetime, nullable: true })
  emailVerifiedAt: Date | null = null;

  /** When the user's second factor was confirmed; null without one. Written with totp_factors (src/auth/mfa/). */
  @Property({ type: types.datetime, nullable: true })
  twoFactorEnabledAt: Date | null = null;

  @Property({ type: types.boolean })
  isActive: boolean = true;

  @Property({ type: types.datetime })
  createdAt: Date = new Date();

  @Property({ type: types.datetime, onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
