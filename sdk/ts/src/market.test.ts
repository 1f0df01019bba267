// The market rules against vectors the Rust module computed (client/tests/app_vectors.rs, with
// calor_client::market): the same node accounts, decoded here by the generated client, must give
// the same availability and the same offered rate for every model and region.
import { describe, expect, it } from 'vitest';

import vectors from '../../../tests/vectors/app.json';
import { fromBase64 } from './context';
import { getNodeDecoder } from './generated/program/accounts/node';
import { availability, offer } from './market';

const market = vectors.market;
const nodes = market.nodes.map((data) => getNodeDecoder().decode(fromBase64(data)));
const now = BigInt(market.now);

describe('the market rules agree with calor_client::market', () => {
  it.each(nodes.map((n, i) => [i, n] as const))('node %i: its availability', (i, node) => {
    expect(availability(node, market.heartbeatTimeoutSecs, now)).toBe(market.availability[i]);
  });
  it.each(market.offers.map((o) => [o.gpu, o.region, o] as const))('model %i in region %s: the offer', (_g, _r, o) => {
    const got = offer(nodes, o.gpu, o.region ?? null, market.heartbeatTimeoutSecs, now);
    expect(got && { rateMicroUsd: got.rateMicroUsd.toString(), queued: got.queued }).toEqual(o.expected);
  });
});
