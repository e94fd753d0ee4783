import { GraphQLJSONObject } from 'graphql-scalars';
import { Arg, Authorized, Ctx, ID, Int, Query, Resolver } from 'type-graphql';
import type { AdditionalClaims } from '../../auth/additional-claims.js';
import { toUserView } from '../../auth/user-view.js';
import { Role, User } from '../../db/entities/index.js';
import { AnsweredFromViewer, FastAuthorized } from '../fast-path/index.js';
import type { Context } from '../context.js';
import { ErrorCode, PublicError } from '../errors.js';
import { Public } from '../public.js';
import { isUuid } from '../../auth/ids.js';
import { UserType } from './types/user.type.js';
import { optionalViewerOf, viewerOf } from './viewer.js';

const MAX_PAGE = 100;

@Resolver(() => UserType)
export class UserResolver {
  @Authorized()
  @FastAuthorized()
  @AnsweredFromViewer()
  @Query(() => UserType, { description: 'The signed-in user.' })
  me(@Ctx() context: Context): UserType {
    return viewerOf(context).user;
  }

  @Public()
  @Query(() => UserType, {
    nullable: true,
    description:
      'The signed-in user, or null when no token was sent: "am I signed in?" without an error. A token that was sent but is expired, invalid or revoked still fails with UNAUTHENTICATED.',
  })
  viewer(@Ctx() context: Context): UserType | null {
    return optionalViewerOf(context)?.user ?? null;
  }

  @Public()
  @Query(() => GraphQLJSONObject, {
    nullable: true,
    description:
      "The application's own claims in the access token sent, as signed (the additional claims loader); {} when it adds none, null when no token was sent. Refuses a bad token like `viewer`.",
  })
  viewerClaims(@Ctx() context: Context): AdditionalClaims | null {
    return optionalViewerOf(context)?.claims ?? null;
  }

  @Authorized()
  @Query(() => UserType, { nullable: true, description: 'Any user by id; null when there is none.' })
  async user(@Arg('id', () => ID) id: string, @Ctx() context: Context): Promise<UserType | null> {
    if (!isUuid(id)) return null;
    const user = await context.em.findOne(User, { id });
    return user ? toUserView(user) : null;
  }

  @Authorized(Role.ADMIN)
  @Query(() => [UserType], { description: 'All users, oldest first. ADMIN only.' })
  async users(
    @Arg('limit', () => Int, { defaultValue: 50 }) limit: number,
    @Arg('offset', () => Int, { defaultValue: 0 }) offset: number,
    @Ctx() context: Context,
  ): Promise<UserType[]> {
    if (limit < 1 || limit > MAX_PAGE)
      throw new PublicError(ErrorCode.BAD_USER_INPUT, `limit must be from 1 to ${MAX_PAGE}`, { field: 'limit' });
    if (offset < 0) throw new PublicError(ErrorCode.BAD_USER_INPUT, 'offset must not be negative', { field: 'offset' });
    const users = await context.em.find(User, {}, { orderBy: { createdAt: 'asc', id: 'asc' }, limit, offset });
    return users.map(toUserView);
  }
}
