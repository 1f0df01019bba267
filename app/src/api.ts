// The one client of the REST API, typed from its OpenAPI description (generated/api.ts).
import createClient from 'openapi-fetch';

import type { components, paths } from '@calor/sdk';

export type Schemas = components['schemas'];
export type GpuCatalog = Schemas['GpuCatalog'];
export type GpuModelView = Schemas['GpuModelView'];
export type Job = Schemas['Job'];
export type Problem = Schemas['ProblemBody'];

/** Where the API is: `?api=` on the page, the build's VITE_CALOR_API, or the local stack's. */
export const apiBase: string =
  new URLSearchParams(window.location.search).get('api') ??
  (import.meta.env.VITE_CALOR_API as string | undefined) ??
  'http://127.0.0.1:8080';

let accessToken: string | null = null;

export function setAccessToken(token: string | null): void {
  accessToken = token;
}

/** A stalled API must not stall the page: every call gives up after 10 s. */
const API_TIMEOUT_MS = 10_000;

/**
 * The API's answer, or, when it does not answer at all (refused, dropped, timed out), a 503
 * problem saying so: every caller handles one shape, and none has to catch.
 */
async function fetchOrProblem(request: Request): Promise<Response> {
  try {
    return await fetch(request, { signal: AbortSignal.timeout(API_TIMEOUT_MS) });
  } catch (e) {
    const problem = {
      title: 'API unreachable',
      status: 503,
      code: 'api_unreachable',
      detail: `the API is not answering (${(e as Error).message})`,
    };
    return new Response(JSON.stringify(problem), {
      status: 503,
      headers: { 'content-type': 'application/problem+json' },
    });
  }
}

export const api = createClient<paths>({ baseUrl: apiBase, fetch: fetchOrProblem });
api.use({
  onRequest({ request }) {
    if (accessToken) request.headers.set('authorization', `Bearer ${accessToken}`);
    return request;
  },
});

/** A problem body's sentence for the user, or the HTTP status when there is none. */
export function problemText(error: unknown, response?: Response): string {
  const problem = error as Partial<Problem> | undefined;
  return problem?.detail ?? problem?.title ?? `the API answered ${response?.status ?? 'nothing'}`;
}
