// A child process that drives Tessera with autocannon: the load generator never shares an event
// loop with the bench's bookkeeping. Prints the measured window's rate and latencies and the whole
// run's error counts as JSON.
import autocannon, { type Instance, type Request } from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadResult, LoadSpec } from './protocol.js';
import { measuredRate } from './stats.js';
import { runWorker, serveOneRun } from './worker-io.js';

const MAX_ERROR_SAMPLES = 3;

interface Tally {
  graphqlErrors: number;
  starved: number;
  samples: string[];
}

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
    const body = (token: string) => JSON.stringify({
      query: 'mutation Refresh($token: String) { refresh(refreshToken: $token) { accessToken refreshToken expiresIn } }',
      variables: { token },
    });
    return [{
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
    }];
  }
  if (spec.bodies) {
    const bodies = spec.bodies;
    return [{
      ...base,
      setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] }),
      onResponse: (status, text) => void note(status, text),
    }];
  }
  const onResponse = (status: number, text: string) => void note(status, text);
  if (spec.tokens) {
    // One prepared request per token, cycled by autocannon itself: a per-request setupRequest
    // would make the load generator (sharing the cores with the server) rebuild every request.
    const header = spec.tokenHeader ?? 'authorization';
    const prefix = header === 'authorization' ? 'Bearer ' : '';
    return spec.tokens.map((token) => ({ ...base, body: spec.body, headers: { ...base.headers, [header]: `${prefix}${token}` }, onResponse }));
  }
  return [{ ...base, body: spec.body, onResponse }];
}

/**
 * One autocannon run from the warm-up's start to the measurement's end, counting only the
 * responses that arrive inside the measured window. The load never pauses between the two: a
 * separate warm-up run, stopped with requests in flight, left the server finishing them (a login's
 * hash cannot be called back) during the measurement's first tens of milliseconds, about 2% of a
 * 3-second login round spent on responses nobody counted.
 */
class ContinuousLoad {
  private readonly tracker: Instance;
  private readonly tally: Tally = { graphqlErrors: 0, starved: 0, samples: [] };
  /** The latencies of the responses inside the measured window, while it is open. */
  private windowLatencies: number[] | undefined;
  private transportErrors = 0;
  private non2xx = 0;
  private failure: unknown;

  constructor(spec: LoadSpec) {
    this.tracker = autocannon({
      url: new URL(spec.url).origin,
      connections: spec.connections,
      // A backstop only: the worker exits once the window has been measured.
      duration: spec.warmupSeconds + spec.durationSeconds + 60,
      timeout: 30,
      requests: buildRequests(spec, this.tally),
    });
    this.tracker.on('response', (_client, status, _bytes, responseTimeMs) => {
      if (status < 200 || status >= 300) this.non2xx++;
      this.windowLatencies?.push(responseTimeMs);
    });
    // Socket errors and timeouts alike (autocannon reports a timeout as a request error too).
    this.tracker.on('reqError', () => this.transportErrors++);
    this.tracker.catch((error: unknown) => (this.failure = error));
  }

  async measure(seconds: number): Promise<LoadResult> {
    const latencies: number[] = [];
    this.windowLatencies = latencies;
    const started = performance.now();
    await sleep(seconds * 1000);
    const elapsed = (performance.now() - started) / 1000;
    this.windowLatencies = undefined;
    if (this.failure !== undefined) throw this.failure;
    return {
      ...measuredRate(latencies, elapsed),
      transportErrors: this.transportErrors,
      non2xx: this.non2xx,
      graphqlErrors: this.tally.graphqlErrors,
      starved: this.tally.starved,
      errorSamples: this.tally.samples,
    };
  }
}

runWorker(() => {
  let load: ContinuousLoad;
  return serveOneRun<LoadSpec, LoadResult>(
    async (spec) => {
      load = new ContinuousLoad(spec);
      await sleep(spec.warmupSeconds * 1000);
    },
    (spec) => load.measure(spec.durationSeconds),
  );
});
