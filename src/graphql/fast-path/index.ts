// Performance fast paths over the schema type-graphql built: a synchronous @Authorized check for
// fields marked @FastAuthorized, and remembered answers for queries marked @AnsweredFromViewer.
// An unmarked field keeps type-graphql's resolver. A marked field may not take arguments or
// middlewares; with global middlewares nothing is fast, with a container no root field is.
// Off: GRAPHQL_FAST_PATHS=false gives the same answers and refusals, slower (bench/README.md).
import { GraphQLObjectType, type GraphQLSchema } from 'graphql';
import type { BuildSchemaOptions } from 'type-graphql';
import { isAnsweredFromViewer, rememberAnsweredFromViewer } from './answered-from-viewer.js';
import { authorizeSynchronously, PLAIN_PROPERTY, SYNCHRONOUSLY_AUTHORIZED } from './synchronous-authorization.js';

export { AnsweredFromViewer } from './answered-from-viewer.js';
export { FastAuthorized } from './synchronous-authorization.js';
export { createViewerResultCache } from './viewer-result-cache.js';

/** `options` are the ones the schema was built with. */
export function applyFastPaths(schema: GraphQLSchema, options: BuildSchemaOptions): void {
  // type-graphql runs them around every field, and every fast path would skip them.
  if ((options.globalMiddlewares?.length ?? 0) > 0) return;
  authorizeSynchronously(schema, options);
  rememberAnsweredFromViewer(schema, options);
}

export type FastPath = 'synchronous-authorization' | 'plain-property' | 'answered-from-viewer';

export interface FastPathField {
  type: string;
  field: string;
  paths: FastPath[];
}

/** Every field of the schema that takes a fast path, and which (for tests and reviews). */
export function describeFastPaths(schema: GraphQLSchema): FastPathField[] {
  const rows: FastPathField[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!(type instanceof GraphQLObjectType)) continue;
    for (const field of Object.values(type.getFields())) {
      const extensions = field.extensions as Record<symbol, unknown>;
      const paths: FastPath[] = [];
      if (extensions[SYNCHRONOUSLY_AUTHORIZED] === true) paths.push('synchronous-authorization');
      if (extensions[PLAIN_PROPERTY] !== undefined) paths.push('plain-property');
      if (isAnsweredFromViewer(field)) paths.push('answered-from-viewer');
      if (paths.length > 0) rows.push({ type: type.name, field: field.name, paths });
    }
  }
  return rows;
}
