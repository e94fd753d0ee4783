import type { Role, User } from '../db/entities/index.js';

/** What the rest of the server knows of a user: everything but the password hash. */
export interface UserView {
  readonly id: string;
  readonly username: string;
  readonly email: string;
  /** The user proved they read mail at `email`. */
  readonly emailVerified: boolean;
  /** A confirmed second factor (TOTP) guards the account. */
  readonly twoFactorEnabled: boolean;
  readonly roles: readonly Role[];
  readonly isActive: boolean;
  readonly createdAt: Date;
}

export function toUserView(user: User): UserView {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    emailVerified: user.emailVerifiedAt !== null,
    twoFactorEnabled: user.twoFactorEnabledAt !== null,
    roles: [...user.roles],
    isActive: user.isActive,
    createdAt: user.createdAt,
  };
}
