import { Extensions } from 'type-graphql';

/**
 * Marks a root field as callable without a token. Every other root field must carry
 * @Authorized: the schema refuses to build otherwise (deny by default).
 */
export function Public(): MethodDecorator & PropertyDecorator {
  return Extensions({ public: true });
}
