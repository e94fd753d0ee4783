import type { SecondFactorProof } from '../../auth/mfa/second-factor.js';
import { ErrorCode, PublicError } from '../errors.js';

/** Exactly one of `code` and `recoveryCode`, as the second-factor arguments of a field. */
export function secondFactorProof(code?: string | null, recoveryCode?: string | null): SecondFactorProof {
  const hasCode = code !== undefined && code !== null;
  const hasRecoveryCode = recoveryCode !== undefined && recoveryCode !== null;
  if (hasCode === hasRecoveryCode) {
    throw new PublicError(ErrorCode.BAD_USER_INPUT, 'Give exactly one of code and recoveryCode');
  }
  return hasCode ? { code } : { recoveryCode: recoveryCode! };
}
