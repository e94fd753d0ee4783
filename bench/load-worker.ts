// A child process that drives Tessera with autocannon: the load generator never shares an event
// loop with the bench's bookkeeping. For each round it prints the measured window's rate and
// latencies and the errors since its previous report as JSON.
import autocannon, { type Instance, type Request } from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadResult, LoadSpec } from './protocol.js';
import { measuredRate } from './stats.js';
import { runWorker, serveRounds } from './worker-io.js';

const MAX_ERROR_SAMPLES = 3;

/** The errors since the last report (each report says what its round saw, once). */
interface Tally {
  /** Socket errors and timeouts. */
  transportErrors: number;
  non2xx: number;
  graphqlErrors: number;
  starved: number;
  samples: string[];
}

const emptyTally = (): Tally => ({ transportErrors: 0, non2xx: 0, graphqlErrors: 0, starved: 0, samples: [] });

function isGraphqlFailure(body: string): boolean {
  return body.includes('"errors"') || !body.includes('"data"');
}

/** The autocannon requests for `spec` (cycled in order), counting GraphQL failures in `tally`. */
function buildRequests(spec: LoadSpec, tally: Tally): Request[] {
  const note = (status: number, body: string) => {
    if (status < 200 || status >= 300) {
      if (tally.samples.length < MAX_ERROR_SAMPLES) tally.samples.push(`${status} ${body.slice(0, 300)}`);
      return false;
    }
    if (isGraphqlFailure(body)) {
      tally.graphqlErrors++;
      if (tally.samples.length < MAX_ERROR_SAMPLES) tally.samples.push(`${status} ${body.slice(0, 300)}`);
      return false;
    }
    return true;
  };
  let next = 0;
  const base: Request = { method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' } };

  if (spec.chains) {
    // Idle chains: a chain leaves the pool while its refresh is in flight and comes back with the
    // token from the response, so each session always presents its latest refresh token.
    const idle = [...spec.chains];
    const body = (token: string) =>
      JSON.stringify({
        query:
          'mutation Refresh($token: String) { refresh(refreshToken: $token) { accessToken refreshToken expiresIn } }',
        variables: { token },
      });
    return [
      {
        ...base,
        setupRequest: (request, context) => {
          const token = idle.pop();
          if (token === undefined) {
            tally.starved++;
            context.token = undefined;
            return { ...request, body: JSON.stringify({ query: '{ __typename }' }) };
          }
          context.token = token;
          return { ...request, body: body(token) };
        },
        onResponse: (status, text, context) => {
          if (context.token === undefined) return;
          if (!note(status, text)) return; // the chain is broken: it stays out of the pool
          const fresh = (JSON.parse(text) as { data: { refresh: { refreshToken: string } } }).data.refresh.refreshToken;
          idle.push(fresh);
        },
      },
    ];
  }
  const onResponse = (status: number, text: string) => void note(status, text);
  const header = spec.tokenHeader ?? 'authorization';
  const withToken = (token: string) => ({
    ...base.headers,
    [header]: header === 'authorization' ? `Bearer ${token}` : token,
  });
  if (spec.bodies && spec.tokens) {
    // Prepared requests (see below), one per body, each with a token in turn.
    const tokens = spec.tokens;
    return spec.bodies.map((body, i) => ({ ...base, body, headers: withToken(tokens[i % tokens.length]), onResponse }));
  }
  if (spec.bodies) {
    const bodies = spec.bodies;
    return [
      {
        ...base,
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
        onResponse: (status, text) => void note(status, text),
      },
    ];
  }
  if (spec.template) {
    const parts = spec.template.split('{n}');
    const cycle = spec.cycle ?? [''];
    const bodyFor = (n: number) => parts.join(String(n)).replaceAll('{cycle}', cycle[n % cycle.length]);
    return [
      {
        ...base,
        setupRequest: (request) => ({ ...request, body: bodyFor(next++) }),
        onResponse: (status, text) => void note(status, text),
      },
    ];
  }
  if (spec.tokens) {
    // One prepared request per token, cycled by autocannon itself: a per-request setupRequest
    // would make the load generator (sharing the cores with the server) rebuild every request.
    return spec.tokens.map((token) => ({ ...base, body: spec.body, headers: withToken(token), onResponse }));
  }
  return [{ ...base, body: spec.body, onResponse }];
}

// autocannon stops its connections at its next sample tick (every second by default): the load
// must stop within a few milliseconds of its window, not run on into the next scenario's.
const STOP_WITHIN_MS = 50;

/**
 * The load from its warm-up's start to its window's end, counting only the responses that arrive
 * inside the window. It never pauses in between: a separate warm-up run, stopped with requests in
 * flight, left the server finishing them (a login's hash cannot be called back) during the
 * measurement's first tens of milliseconds, about 2% of a 3-second login round spent on responses
 * nobody counted. After the window the load stops; what it left in flight drains while the next
 * scenario's load settles, before that one's window opens.
 */
class RoundLoad {
  private readonly tally: Tally = emptyTally();
  /**
   * Built once, so that the rotations of setupRequest (login's users, refresh's chains) carry on
   * from one round to the next; prepared requests (tokens) start again at each connection's first.
   */
  private readonly requests: Request[];
  private tracker: Instance | undefined;
  /** The latencies of the responses inside the measured window, while it is open. */
  private windowLatencies: number[] | undefined;
  private failure: unknown;

  constructor(private readonly spec: LoadSpec) {
    this.requests = buildRequests(spec, this.tally);
  }

  async start(seconds: number): Promise<void> {
    await this.stop();
    const tracker = autocannon({
      url: new URL(this.spec.url).origin,
      connections: this.spec.connections,
      // A backstop only: the window's end stops the load.
      duration: seconds + this.spec.durationSeconds + 60,
      timeout: 30,
      sampleInt: STOP_WITHIN_MS,
      requests: this.requests,
    });
    tracker.on('response', (_client, status, _bytes, responseTimeMs) => {
      if (status < 200 || status >= 300) this.tally.non2xx++;
      this.windowLatencies?.push(responseTimeMs);
    });
    // Socket errors and timeouts alike (autocannon reports a timeout as a request error too).
    tracker.on('reqError', () => this.tally.transportErrors++);
    tracker.catch((error: unknown) => (this.failure = error));
    this.tracker = tracker;
    await sleep(seconds * 1000);
  }

  async measure(): Promise<LoadResult> {
    const latencies: number[] = [];
    this.windowLatencies = latencies;
    const started = performance.now();
    await sleep(this.spec.durationSeconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    this.windowLatencies = undefined;
    if (this.failure !== undefined) throw asError(this.failure);
    const { samples, ...errors } = this.tally;
    Object.assign(this.tally, emptyTally());
    return { ...measuredRate(latencies, elapsed), ...errors, errorSamples: samples };
  }

  async stop(): Promise<void> {
    const tracker = this.tracker;
    this.tracker = undefined;
    if (!tracker) return;
    tracker.stop();
    await tracker.then(
      () => undefined,
      () => undefined,
    );
  }
}

let load: RoundLoad | undefined;
runWorker(() =>
  serveRounds<LoadSpec, LoadResult>({
    start: (spec, seconds) => (load ??= new RoundLoad(spec)).start(seconds),
    measure: () => load!.measure(),
    stop: () => load!.stop(),
  }),
);

/** autocannon rejects with whatever it was given; a worker's failure report wants an Error. */
function asError(failure: unknown): Error {
  return failure instanceof Error ? failure : new Error(String(failure));
}
