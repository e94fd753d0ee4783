// What the bench tells its child processes (one JSON line on stdin, then "go") and what they
// answer (JSON lines on stdout: {"event":"warmed"}, then {"event":"result", ...}).

/** One autocannon run against Tessera's /graphql. Exactly one of the request sources is set. */
export interface LoadSpec {
  kind: 'load';
  url: string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  /** The same body on every request. */
  body?: string;
  /** With `body`: one access token per request, rotated across all connections. */
  tokens?: string[];
  /** The header carrying `tokens` (default: Authorization, as `Bearer <token>`). */
  tokenHeader?: string;
  /** One body per request, rotated (logins of distinct users). */
  bodies?: string[];
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
export interface Argon2Spec {
  kind: 'argon2';
  memoryKib: number;
  timeCost: number;
  parallelism: number;
  concurrency: number;
  warmupSeconds: number;
  durationSeconds: number;
}

export interface Argon2Result extends MeasuredRate {
  errors: number;
  peakRssMb: number;
}
