import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { AuthError, AuthFailure } from '../../auth/auth-error.js';
import type { IssuedTokens } from '../../auth/sessions.js';
import { asOwnRecord } from '../auth-checker.js';
import type { Context } from '../context.js';
import { fromAuthError } from '../errors.js';
import { Public } from '../public.js';
import { AuthPayloadType } from './types/auth-payload.type.js';
import { LoginInput } from './types/login.input.js';
import { SignupInput } from './types/signup.input.js';

export function toAuthPayload(tokens: IssuedTokens, context: Context): AuthPayloadType {
  return {
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    tokenType: context.config.jwt.headerType,
    expiresIn: tokens.expiresIn,
    refreshExpiresIn: tokens.refreshExpiresIn,
    // The caller just proved who they are: the user in the payload is their own record.
    user: asOwnRecord(tokens.user),
    deviceToken: tokens.deviceToken ?? null,
  };
}

@Resolver()
export class AuthResolver {
  @Public()
  @Mutation(() => AuthPayloadType, {
    description: 'Creates an account with the USER role and logs it in (fresh tokens).',
  })
  async signup(@Arg('input', () => SignupInput) input: SignupInput, @Ctx() context: Context): Promise<AuthPayloadType> {
    return toAuthPayload(await context.services.accounts.signup(context.em, input, context.meta), context);
  }

  @Public()
  @Mutation(() => AuthPayloadType, {
    description:
      'Rotates: a new access token (not fresh) and a new refresh token for the same session. Takes the refresh token as the argument, or else from the Authorization header.',
  })
  async refresh(
    @Arg('refreshToken', () => String, { nullable: true }) refreshToken: string | null | undefined,
    @Ctx() context: Context,
  ): Promise<AuthPayloadType> {
    const token = refreshToken ?? context.presentedToken;
    // An empty string was sent, so it is an invalid token rather than a missing one.
    if (token === undefined) throw fromAuthError(new AuthError(AuthFailure.TOKEN_MISSING, 'No refresh token was sent'));
    return toAuthPayload(await context.services.sessions.refresh(context.em, token, context.meta), context);
  }

  @Public()
  @Mutation(() => AuthPayloadType, { description: 'Starts a session: fresh access token and a refresh token.' })
  async login(@Arg('input', () => LoginInput) input: LoginInput, @Ctx() context: Context): Promise<AuthPayloadType> {
    return toAuthPayload(await context.services.accounts.login(input, context.meta), context);
  }
}
