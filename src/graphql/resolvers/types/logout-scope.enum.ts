import { registerEnumType } from 'type-graphql';
import { LogoutScope } from '../../../auth/sessions.js';

registerEnumType(LogoutScope, {
  name: 'LogoutScope',
  description: 'Which sessions a logout ends.',
  valuesConfig: {
    CURRENT: { description: 'The session of the token making the request.' },
    OTHERS: { description: 'Every other session of the user (the other devices).' },
    ALL: { description: 'Every session of the user, this one included.' },
  },
});

export { LogoutScope };
