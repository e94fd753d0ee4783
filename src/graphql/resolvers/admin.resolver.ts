import { Arg, Authorized, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { MAX_EVENTS_PAGE } from '../../auth/account-administration.js';
import { Role } from '../../db/entities/index.js';
import { AccessRule, type Requirement } from '../auth-checker.js';
import type { Context } from '../context.js';
import { ErrorCode, notFound, PublicError } from '../errors.js';
import { AuthEventType } from './types/auth-event.type.js';
import { SessionType, toSessionType } from './types/session.type.js';
import { isUuid } from '../../auth/ids.js';
import { UserType } from './types/user.type.js';
import { viewerRef } from './viewer.js';

/** What ADMINs do to other accounts. Changes need a fresh token and count from the next request. */
@Resolver()
export class AdminResolver {
  @Authorized(Role.ADMIN)
  @Query(() => [AuthEventType], { description: 'The audit trail, newest first; optionally of one user.' })
  async authEvents(
    @Arg('userId', () => ID, { nullable: true }) userId: string | null | undefined,
    @Arg('limit', () => Int, { defaultValue: 50 }) limit: number,
    @Ctx() context: Context,
  ): Promise<AuthEventType[]> {
    if (limit < 1 || limit > MAX_EVENTS_PAGE) {
      throw new PublicError(ErrorCode.BAD_USER_INPUT, `limit must be from 1 to ${MAX_EVENTS_PAGE}`, { field: 'limit' });
    }
    if (userId && !isUuid(userId)) return [];
    return context.services.administration.listEvents(context.em, userId ?? undefined, limit);
  }

  @Authorized(Role.ADMIN)
  @Query(() => [SessionType], { description: "The user's live sessions, most recently used first." })
  async userSessions(@Arg('userId', () => ID) userId: string, @Ctx() context: Context): Promise<SessionType[]> {
    const sessions = isUuid(userId) ? await context.services.administration.listSessions(context.em, userId) : null;
    if (!sessions) throw notFound('User');
    const viewerSession = viewerRef(context).sessionId;
    return sessions.map((session) => toSessionType(session, viewerSession));
  }

  @Authorized<Requirement>(Role.ADMIN, AccessRule.FRESH)
  @Mutation(() => Int, {
    description: "Ends all of the user's sessions; how many ended. Their tokens fail on the next request.",
  })
  async revokeUserSessions(@Arg('userId', () => ID) userId: string, @Ctx() context: Context): Promise<number> {
    const ended = isUuid(userId)
      ? await context.services.administration.revokeSessions(
          context.em,
          viewerRef(context).userId,
          userId,
          context.meta,
        )
      : null;
    if (ended === null) throw notFound('User');
    return ended;
  }

  @Authorized<Requirement>(Role.ADMIN, AccessRule.FRESH)
  @Mutation(() => UserType, { description: "Replaces the user's roles; effective on their next request." })
  async setUserRoles(
    @Arg('userId', () => ID) userId: string,
    @Arg('roles', () => [Role]) roles: Role[],
    @Ctx() context: Context,
  ): Promise<UserType> {
    const user = isUuid(userId)
      ? await context.services.administration.setRoles(
          context.em,
          viewerRef(context).userId,
          userId,
          roles,
          context.meta,
        )
      : null;
    if (!user) throw notFound('User');
    return user;
  }

  @Authorized<Requirement>(Role.ADMIN, AccessRule.FRESH)
  @Mutation(() => UserType, {
    description: "Deactivating ends all of the user's sessions at once and refuses their logins.",
  })
  async setUserActive(
    @Arg('userId', () => ID) userId: string,
    @Arg('active') active: boolean,
    @Ctx() context: Context,
  ): Promise<UserType> {
    const user = isUuid(userId)
      ? await context.services.administration.setActive(
          context.em,
          viewerRef(context).userId,
          userId,
          active,
          context.meta,
        )
      : null;
    if (!user) throw notFound('User');
    return user;
  }
}
