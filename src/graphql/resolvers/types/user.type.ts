import { Authorized, Field, ID, ObjectType } from 'type-graphql';
import type { UserView } from '../../../auth/user-view.js';
import { AccessRule } from '../../auth-checker.js';
import { Role } from '../../../db/entities/index.js';
import { FastAuthorized } from '../../fast-path/index.js';

// Apart from the User entity, unlike Task: the entity holds the password hash, which must never get a field.
@FastAuthorized()
@ObjectType('User', {
  description: 'A person with an account. The password hash has no field: it never leaves the server.',
})
export class UserType implements UserView {
  @Field(() => ID)
  id!: string;

  @Field()
  username!: string;

  @Authorized(AccessRule.SELF_OR_ADMIN)
  @Field(() => String, {
    nullable: true,
    description: 'Visible to the user themself and to ADMINs; anyone else gets null and a FORBIDDEN error.',
  })
  email!: string;

  @Authorized(AccessRule.SELF_OR_ADMIN)
  @Field(() => Boolean, {
    nullable: true,
    description: 'Whether the user proved they read mail at their address. Visible like email.',
  })
  emailVerified!: boolean;

  @Authorized(AccessRule.SELF_OR_ADMIN)
  @Field(() => Boolean, {
    nullable: true,
    description: 'Whether an authenticator app guards the account (two-factor). Visible like email.',
  })
  twoFactorEnabled!: boolean;

  @Field(() => [Role])
  roles!: readonly Role[];

  @Field()
  isActive!: boolean;

  @Field()
  createdAt!: Date;
}
