// Every enum of the schema, registered once and before any resolver is built: schema.ts imports
// this module first. The enums themselves live with the code that uses them.
import { registerEnumType } from 'type-graphql';
import { AuthEventKind } from '../auth/audit.js';
import { LogoutScope } from '../auth/sessions.js';
import { Role, TokenTransport } from '../db/entities/index.js';

registerEnumType(Role, { name: 'Role', description: 'What a user may do beyond their own data.' });

registerEnumType(LogoutScope, {
  name: 'LogoutScope',
  description: 'Which sessions a logout ends.',
  valuesConfig: {
    CURRENT: { description: 'The session of the token making the request.' },
    OTHERS: { description: 'Every other session of the user (the other devices).' },
    ALL: { description: 'Every session of the user, this one included.' },
  },
});

registerEnumType(AuthEventKind, { name: 'AuthEventKind', description: 'What an entry of the audit trail records.' });

registerEnumType(TokenTransport, {
  name: 'TokenTransport',
  description: "How a session's tokens travel, chosen at login or signup and kept for the session's life.",
  valuesConfig: {
    BODY: { description: 'Both tokens in the response body: the client keeps them (mobile apps, servers).' },
    COOKIE: {
      description:
        'For browser apps: the refresh token in an HttpOnly cookie (with a CSRF companion cookie), the access token in the body for memory.',
    },
  },
});
