import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { AuthError, AuthFailure } from '../../auth/auth-error.js';
import type { IssuedTokens } from '../../auth/sessions.js';
import { TokenTransport } from '../../db/entities/index.js';
import { asOwnRecord } from '../auth-checker.js';
import type { Context } from '../context.js';
import { fromAuthError } from '../errors.js';
import { Public } from '../public.js';
import { AuthPayloadType } from './types/auth-payload.type.js';
import { LoginInput } from './types/login.input.js';
import { SignupInput } from './types/signup.input.js';

/** The payload of newly issued tokens; a COOKIE session's go in cookies, its refresh token nowhere else. */
export function toAuthPayload(tokens: IssuedTokens, context: Context): AuthPayloadType {
  const inCookie = tokens.transport === TokenTransport.COOKIE;
  if (inCookie) context.cookies.store(tokens);
  return {
    accessToken: tokens.accessToken,
    refreshToken: inCookie ? null : tokens.refreshToken,
    transport: tokens.transport,
    tokenType: context.config.jwt.headerType,
    expiresIn: tokens.expiresIn,
    refreshExpiresIn: tokens.refreshExpiresIn,
    // The caller just proved who they are: the user in the payload is their own record.
    user: asOwnRecord(tokens.user),
    deviceToken: tokens.deviceToken ?? null,
  };
}

/** Cookies for a page that may not call with credentials would be set for nobody's benefit but an attacker's. */
export function checkTransport(transport: TokenTransport | undefined, context: Context): void {
  if (transport === TokenTransport.COOKIE && !context.cookies.originAllowed) {
    throw fromAuthError(
      new AuthError(
        AuthFailure.ORIGIN_NOT_ALLOWED,
        'This origin may not receive cookies from this server: add it to CORS_ORIGINS',
        'transport',
      ),
    );
  }
}

/** A refresh that ends the session leaves nothing in the cookie worth sending again. */
const ENDS_COOKIE: ReadonlySet<AuthFailure> = new Set([AuthFailure.SESSION_EXPIRED, AuthFailure.REFRESH_TOKEN_REUSED]);

@Resolver()
export class AuthResolver {
  @Public()
  @Mutation(() => AuthPayloadType, {
    description:
      'Creates an account with the USER role and logs it in (fresh tokens). Tells whether an email has an account (ACCOUNT_EXISTS); refused with SIGNUP_DISABLED when SIGNUP_MODE=verified (use register).',
  })
  async signup(@Arg('input', () => SignupInput) input: SignupInput, @Ctx() context: Context): Promise<AuthPayloadType> {
    checkTransport(input.transport, context);
    return toAuthPayload(await context.services.accounts.signup(context.em, input, context.meta), context);
  }

  @Public()
  @Mutation(() => AuthPayloadType, {
    description:
      'Rotates: a new access token (not fresh) and a new refresh token for the same session. Takes the refresh token as the argument, or else from the Authorization header, or else from the refresh cookie (with its CSRF header).',
  })
  async refresh(
    @Arg('refreshToken', () => String, { nullable: true }) refreshToken: string | null | undefined,
    @Ctx() context: Context,
  ): Promise<AuthPayloadType> {
    const { sessions } = context.services;
    const token = refreshToken ?? context.presentedToken;
    if (token !== undefined) return toAuthPayload(await sessions.refresh(token, context.meta), context);
    const cookie = context.cookies.refreshToken;
    if (cookie instanceof AuthError) throw fromAuthError(cookie);
    if (cookie === undefined)
      throw fromAuthError(new AuthError(AuthFailure.TOKEN_MISSING, 'No refresh token was sent'));
    try {
      return toAuthPayload(await sessions.refresh(cookie.token, context.meta, cookie.source), context);
    } catch (error) {
      if (error instanceof AuthError && ENDS_COOKIE.has(error.reason)) context.cookies.clear();
      throw error;
    }
  }

  @Public()
  @Mutation(() => AuthPayloadType, { description: 'Starts a session: fresh access token and a refresh token.' })
  async login(@Arg('input', () => LoginInput) input: LoginInput, @Ctx() context: Context): Promise<AuthPayloadType> {
    checkTransport(input.transport, context);
    return toAuthPayload(await context.services.accounts.login(context.em, input, context.meta), context);
  }
}
