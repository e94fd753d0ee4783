import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { TokenTransport } from '../../db/entities/index.js';
import type { Context } from '../context.js';
import { Public } from '../public.js';
import { checkTransport, toAuthPayload } from './auth.resolver.js';
import { AuthPayloadType } from './types/auth-payload.type.js';

/** Forgot password: a link by mail, then a new password and a new session. */
@Resolver()
export class PasswordResetResolver {
  @Public()
  @Mutation(() => Boolean, {
    description:
      'Mails a password reset link to the address if an account has it. Always true (it tells nobody whether the address has an account); RATE_LIMITED per client IP and per address.',
  })
  async requestPasswordReset(@Arg('email') email: string, @Ctx() context: Context): Promise<boolean> {
    return context.services.passwordReset.request(email, context.meta);
  }

  @Public()
  @Mutation(() => AuthPayloadType, {
    description:
      'Sets a new password with the token of a reset link: every session of the account ends, its address counts as verified, and a new session opens (fresh tokens). A refused password (WEAK_PASSWORD on newPassword) leaves the link usable.',
  })
  async resetPassword(
    @Arg('token') token: string,
    @Arg('newPassword') newPassword: string,
    @Arg('transport', () => TokenTransport, {
      defaultValue: TokenTransport.BODY,
      description: 'COOKIE for browser apps, as for login.',
    })
    transport: TokenTransport,
    @Ctx() context: Context,
  ): Promise<AuthPayloadType> {
    checkTransport(transport, context);
    const tokens = await context.services.passwordReset.reset(context.em, token, newPassword, context.meta, transport);
    return toAuthPayload(tokens, context);
  }
}
