import { Arg, Authorized, Ctx, Mutation, Resolver } from 'type-graphql';
import { AccessRule } from '../auth-checker.js';
import type { Context } from '../context.js';
import { FastAuthorized } from '../fast-path/index.js';
import { toAuthPayload } from './auth.resolver.js';
import { secondFactorProof } from './second-factor-proof.js';
import { AuthPayloadType } from './types/auth-payload.type.js';
import { viewerRef } from './viewer.js';

/** What signed-in users do to their own account. */
@Resolver()
export class AccountResolver {
  @Authorized()
  @Mutation(() => AuthPayloadType, {
    description:
      'Proves the password again: fresh tokens for the same session. With two-factor, also exactly one of code or recoveryCode (the session reaches aal 2); the password alone answers MFA_REQUIRED with a challenge for completeMfaLogin.',
  })
  async reauthenticate(
    @Arg('password') password: string,
    @Arg('code', () => String, { nullable: true }) code: string | null | undefined,
    @Arg('recoveryCode', () => String, { nullable: true }) recoveryCode: string | null | undefined,
    @Ctx() context: Context,
  ): Promise<AuthPayloadType> {
    // The password alone is a proper request too: for a two-factor account it brings a challenge.
    const proof = (code ?? recoveryCode ?? null) === null ? undefined : secondFactorProof(code, recoveryCode);
    return toAuthPayload(
      await context.services.accounts.reauthenticate(context.em, viewerRef(context), password, proof, context.meta),
      context,
    );
  }

  @Authorized()
  @Mutation(() => AuthPayloadType, {
    description: 'Ends every other session of the user and returns fresh tokens for this one.',
  })
  async changePassword(
    @Arg('currentPassword') currentPassword: string,
    @Arg('newPassword') newPassword: string,
    @Ctx() context: Context,
  ): Promise<AuthPayloadType> {
    const tokens = await context.services.accounts.changePassword(
      context.em,
      viewerRef(context),
      currentPassword,
      newPassword,
      context.meta,
    );
    return toAuthPayload(tokens, context);
  }

  @Authorized(AccessRule.FRESH)
  @FastAuthorized()
  @Mutation(() => Boolean, { description: 'Deletes the account, its sessions and its data. Needs a fresh token.' })
  async deleteMyAccount(@Ctx() context: Context): Promise<boolean> {
    await context.services.accounts.deleteAccount(context.em, viewerRef(context), context.meta);
    context.cookies.clear();
    return true;
  }
}
