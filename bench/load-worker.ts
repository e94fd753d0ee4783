// A child process that drives Tessera with autocannon: the load generator never shares an event
// loop with the bench's bookkeeping. Prints autocannon's figures and its own error counts as JSON.
import autocannon, { type Request } from 'autocannon';
import type { LoadResult, LoadSpec } from './protocol.js';
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
function buildRequests(spec: LoadSpec, chains: string[] | undefined, tally: Tally): Request[] {
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

  if (chains) {
    // Idle chains: a chain leaves the pool while its refresh is in flight and comes back with the
    // token from the response, so each session always presents its latest refresh token.
    const idle = [...chains];
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

async function drive(spec: LoadSpec, seconds: number, chains: string[] | undefined): Promise<LoadResult> {
  const tally: Tally = { graphqlErrors: 0, starved: 0, samples: [] };
  const result = await autocannon({
    url: new URL(spec.url).origin,
    connections: spec.connections,
    duration: seconds,
    timeout: 30,
    requests: buildRequests(spec, chains, tally),
  });
  const requests = result.requests.total;
  return {
    event: 'result',
    requests,
    seconds: result.duration,
    requestsPerSecond: requests / result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    transportErrors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors: tally.graphqlErrors,
    starved: tally.starved,
    errorSamples: tally.samples,
  };
}

runWorker(() =>
  serveOneRun<LoadSpec, LoadResult>(
    async (spec) => {
      if (spec.warmupSeconds > 0) await drive(spec, spec.warmupSeconds, spec.chains?.warmup);
    },
    (spec) => drive(spec, spec.durationSeconds, spec.chains?.measure),
  ),
);
