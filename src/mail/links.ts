import type { MailConfig, MailLinkFlow } from '../config.js';

/** The front-end's page for `flow`, carrying the token; opening it consumes nothing. */
export function mailLink(mail: MailConfig, flow: MailLinkFlow, token: string): string {
  return `${mail.appUrl}${mail.linkPaths[flow]}?token=${encodeURIComponent(token)}`;
}
