import { registerEnumType } from 'type-graphql';
import { Role } from '../../../db/entities/index.js';

registerEnumType(Role, { name: 'Role', description: 'What a user may do beyond their own data.' });

export { Role };
