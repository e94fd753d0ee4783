// Every migration, in order. Written by `npm run migration:create` from this folder's files;
// `npm run migration:check` fails when the entities and the migrated schema differ.
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123000000_initial } from './Migration20261123000000_initial.js';
import { Migration20261123010000_rate_limits } from './Migration20261123010000_rate_limits.js';
import { Migration20261202233006_session_generation } from './Migration20261202233006_session_generation.js';
import { Migration20261203080000_session_transport } from './Migration20261203080000_session_transport.js';
import { Migration20261203113134_mail_and_account_tokens } from './Migration20261203113134_mail_and_account_tokens.js';
import { Migration20261203150507_two_factor } from './Migration20261203150507_two_factor.js';
import { Migration20261203153414_purge_and_list_indexes } from './Migration20261203153414_purge_and_list_indexes.js';

export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261123000000_initial', class: Migration20261123000000_initial },
  { name: 'Migration20261123010000_rate_limits', class: Migration20261123010000_rate_limits },
  { name: 'Migration20261202233006_session_generation', class: Migration20261202233006_session_generation },
  { name: 'Migration20261203080000_session_transport', class: Migration20261203080000_session_transport },
  { name: 'Migration20261203113134_mail_and_account_tokens', class: Migration20261203113134_mail_and_account_tokens },
  { name: 'Migration20261203150507_two_factor', class: Migration20261203150507_two_factor },
  { name: 'Migration20261203153414_purge_and_list_indexes', class: Migration20261203153414_purge_and_list_indexes },
];
