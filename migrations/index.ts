// Every migration, in order. A new one is appended here in the same commit as its entity change;
// a test fails when the entities and the migrated schema differ.
import type { MigrationObject } from '@mikro-orm/core';
import { Migration20261123000000_initial } from './Migration20261123000000_initial.js';
import { Migration20261123010000_rate_limits } from './Migration20261123010000_rate_limits.js';

export const MIGRATIONS: MigrationObject[] = [
  { name: 'Migration20261123000000_initial', class: Migration20261123000000_initial },
  { name: 'Migration20261123010000_rate_limits', class: Migration20261123010000_rate_limits },
];
