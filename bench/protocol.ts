// What the bench tells its child processes (one JSON line on stdin, then "go" and "resume" lines)
// and what they answer (JSON lines on stdout: {"event":"warmed"}, then {"event":"result", ...} for
// each "go" and {"event":"warmed"} for each "resume").

/** The timing every worker follows: warm up once, then a window per "go", a settle per "resume". */
export interface RoundSpec {
  /** The load's first run before the first window (JIT, connections, pools). */
  warmupSeconds: number;
  /** The load's run before each later window: the previous scenario's leftovers drain meanwhile. */
  settleSeconds: number;
  /** One measured window. */
  durationSeconds: number;
}

/** Autocannon against Tessera's /graphql. Exactly one of the request sources is set (`tokens` goes with one). */
export interface LoadSpec extends RoundSpec {
  kind: 'load';
  url: string;
  connections: number;
  /** The same body on every request. */
  body?: string;
  /** With `body`: one access token per request, rotated across all connections; with `bodies`: the tokens in turn. */
  tokens?: string[];
  /** The header carrying `tokens` (default: Authorization, as `Bearer <token>`). */
  tokenHeader?: string;
  /** One body per request, rotated (logins of distinct users). */
  bodies?: string[];
  /** A body whose every `{n}` becomes the request's own number: a fresh account per request. */
  template?: string;
  /** With `template`: its `{cycle}` becomes these values in turn (the seeded users' emails). */
  cycle?: string[];
  /** Refresh tokens, one per session chain: each chain is used by one request at a time. */
  chains?: string[];
}

/** What every worker measures. */
export interface MeasuredRate {
  event: 'result';
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadResult extends MeasuredRate {
  /** Socket errors and timeouts. */
  transportErrors: number;
  non2xx: number;
  /** 2xx responses whose body had GraphQL `errors` (or no `data`). */
  graphqlErrors: number;
  /** A refresh request that found no idle session chain (sent nothing useful). */
  starved: number;
  errorSamples: string[];
}

/** argon2.verify called directly, `concurrency` calls in flight, outside HTTP. */
export interface Argon2Spec extends RoundSpec {
  kind: 'argon2';
  memoryKib: number;
  timeCost: number;
  parallelism: number;
  concurrency: number;
}

export interface Argon2Result extends MeasuredRate {
  errors: number;
  peakRssMb: number;
}
