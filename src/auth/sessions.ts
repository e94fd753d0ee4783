// Sessions: one per login, holding the current refresh token's id. Creating one and issuing its
// tokens happen in the caller's unit of work, so a failed write leaves no half-made session.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Config } from '../config.js';
import { Session, type User } from '../db/entities/index.js';
import type { RequestMeta } from './request-meta.js';
import type { TokenService } from './tokens.js';
import { nowSeconds } from './tokens.js';
import { toUserView, type UserView } from './user-view.js';

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  /** Seconds until the refresh token expires. */
  refreshExpiresIn: number;
  user: UserView;
  sessionId: string;
}

const USER_AGENT_MAX = 512;

export class SessionService {
  constructor(
    private readonly tokens: TokenService,
    private readonly jwt: Config['jwt'],
  ) {}

  /** Queues a new session for `user` on `em` and returns fresh tokens for it. */
  open(em: EntityManager, user: User, meta: RequestMeta): IssuedTokens {
    const session = em.create(Session, {
      user,
      refreshJti: '00000000-0000-0000-0000-000000000000',
      expiresAt: new Date((nowSeconds() + this.jwt.refreshTokenTtlSeconds) * 1000),
      userAgent: meta.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      ip: meta.ip,
    });
    em.persist(session);
    return this.issue(session, user, true);
  }

  /** Signs a new token pair for `session` and makes its refresh token the current one. */
  issue(session: Session, user: User, fresh: boolean): IssuedTokens {
    const access = this.tokens.signAccessToken({ sub: user.id, sid: session.id, roles: [...user.roles], fresh });
    const refresh = this.tokens.signRefreshToken({ sub: user.id, sid: session.id }, session.expiresAt.getTime() / 1000);
    session.refreshJti = refresh.jti;
    const now = nowSeconds();
    return {
      accessToken: access.token,
      refreshToken: refresh.token,
      expiresIn: access.expiresAt - now,
      refreshExpiresIn: refresh.expiresAt - now,
      user: toUserView(user),
      sessionId: session.id,
    };
  }
}
