// Database work per request. Two counts, read before and after each measurement:
// - transactions, from pg_stat_database (xact_commit + xact_rollback): an autocommitted statement
//   is one, an explicit transaction is one however many statements it holds. PostgreSQL publishes
//   a busy backend's counts about once a second, so this count is approximate (±1 s of traffic).
// - statements, from pg_stat_statements when it is loaded: exact and immediate, per statement
//   text, without BEGIN/COMMIT; the bench's own monitoring queries are left out.
import pg from 'pg';

export interface Snapshot {
  transactions: number;
  statements: Map<string, { query: string; calls: number }>;
}

export interface StatementCount {
  query: string;
  perRequest: number;
}

export interface DbWork {
  /** Transactions per request (pg_stat_database). */
  transactions: number;
  /** Statements per request, BEGIN/COMMIT left out; undefined when pg_stat_statements is not available. */
  statementsPerRequest?: number;
  beginsPerRequest?: number;
  breakdown?: StatementCount[];
}

const CONTROL = /^\s*(begin|commit|rollback|start transaction|savepoint|release)\b/i;

export class DbCounters {
  private constructor(
    private readonly client: pg.Client,
    private readonly statementsCounted: boolean,
  ) {}

  static async open(url: string, statementsCounted: boolean): Promise<DbCounters> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    return new DbCounters(client, statementsCounted);
  }

  async snapshot(): Promise<Snapshot> {
    const { rows } = await this.client.query<{ n: string }>(
      'select xact_commit + xact_rollback as n from pg_stat_database where datname = current_database()',
    );
    const statements = new Map<string, { query: string; calls: number }>();
    if (this.statementsCounted) {
      const result = await this.client.query<{ id: string; query: string; calls: string }>(
        `select queryid::text as id, query, calls from pg_stat_statements
          where dbid = (select oid from pg_database where datname = current_database())
            and query not like '%pg_stat_%'`,
      );
      for (const row of result.rows) statements.set(row.id, { query: row.query, calls: Number(row.calls) });
    }
    return { transactions: Number(rows[0].n), statements };
  }

  /** Work between two snapshots, per request. */
  perRequest(before: Snapshot, after: Snapshot, requests: number): DbWork {
    const per = (n: number) => (requests > 0 ? n / requests : 0);
    // The `before` snapshot's own transaction lands in the interval.
    const work: DbWork = { transactions: per(Math.max(0, after.transactions - before.transactions - 1)) };
    if (!this.statementsCounted) return work;
    let statements = 0;
    let begins = 0;
    const breakdown: StatementCount[] = [];
    for (const [id, entry] of after.statements) {
      const calls = entry.calls - (before.statements.get(id)?.calls ?? 0);
      if (calls <= 0) continue;
      if (CONTROL.test(entry.query)) {
        if (/^\s*(begin|start)/i.test(entry.query)) begins += calls;
        continue;
      }
      statements += calls;
      breakdown.push({ query: entry.query.replace(/\s+/g, ' ').slice(0, 200), perRequest: per(calls) });
    }
    breakdown.sort((a, b) => b.perRequest - a.perRequest);
    return {
      ...work,
      statementsPerRequest: per(statements),
      beginsPerRequest: per(begins),
      breakdown: breakdown.slice(0, 10),
    };
  }

  close(): Promise<void> {
    return this.client.end();
  }
}
