import { Field, ObjectType } from 'type-graphql';
import type { TotpEnrollmentView } from '../../../auth/mfa/enrollment.js';

@ObjectType('TotpEnrollment', {
  description:
    'A pending authenticator-app enrolment: show the QR code (or the secret) once, then confirmTotpEnrollment with a code.',
})
export class TotpEnrollmentType implements TotpEnrollmentView {
  @Field({ description: 'The 160-bit secret in base32 (32 characters), for typing into an app by hand.' })
  secret!: string;

  @Field({ description: 'The otpauth:// key URI an authenticator app scans.' })
  otpauthUri!: string;

  @Field({ description: 'otpauthUri as an SVG QR code, ready to place in a page.' })
  qrCodeSvg!: string;
}
