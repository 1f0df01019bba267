// The market from the chain's own accounts, by the rules calor_client::market applies (the API's
// catalog, the Rust SDK and the CLI): a node is online while its heartbeat is within the
// config's timeout and not marked offline, idle when it serves nothing; a rental offers the
// cheapest idle node's rate, else the cheapest online one's and waits in the queue. The vectors
// in tests/vectors/app.json come from the Rust module, so the two cannot disagree. With these,
// the catalog needs no API.
import { getBase58Decoder, type ReadonlyUint8Array } from '@solana/kit';

import { chainTime } from './chain';
import { fromBase64, readConfig, type ChainContext } from './context';
import type { components } from './generated/api';
import { GPU_MODEL_DISCRIMINATOR, getGpuModelDecoder, type GpuModel } from './generated/program/accounts/gpuModel';
import { NODE_DISCRIMINATOR, getNodeDecoder, type Node } from './generated/program/accounts/node';
import { REGION_DISCRIMINATOR, getRegionDecoder, type Region } from './generated/program/accounts/region';
import { CALOR_PROGRAM_ADDRESS } from './generated/program/programs';
import { subsidisedUsd } from './rules/quote';

export type Availability = 'idle' | 'busy' | 'offline';

/** The fields of a node the rules read. */
export type NodeFacts = Pick<Node, 'status' | 'lastHeartbeat' | 'currentRental' | 'hourlyRateMicroUsd' | 'gpuModel' | 'region'>;

const NO_RENTAL = '11111111111111111111111111111111';
const IDLE = 0;
const OFFLINE = 2;

/** What `node` can do at `chainTime`, by its status and its last heartbeat. */
export function availability(node: NodeFacts, heartbeatTimeoutSecs: number, now: bigint): Availability {
  const live = now - node.lastHeartbeat <= BigInt(heartbeatTimeoutSecs);
  // a status the program never writes counts as offline, as `Node::status` reads it
  if (node.status === OFFLINE || node.status > OFFLINE || !live) return 'offline';
  return node.status === IDLE && node.currentRental === NO_RENTAL ? 'idle' : 'busy';
}

export type Tally = { idle: number; online: number; cheapestIdle: bigint | null; cheapestOnline: bigint | null };
export type Offer = { rateMicroUsd: bigint; queued: boolean };

const cheaper = (c: bigint | null, rate: bigint) => (c == null || rate < c ? rate : c);
const min = (a: bigint | null, b: bigint | null) => (a == null ? b : b == null ? a : a < b ? a : b);

function tally(nodes: NodeFacts[], heartbeatTimeoutSecs: number, now: bigint): Tally {
  const t: Tally = { idle: 0, online: 0, cheapestIdle: null, cheapestOnline: null };
  for (const n of nodes) {
    const a = availability(n, heartbeatTimeoutSecs, now);
    if (a === 'offline') continue;
    t.online += 1;
    t.cheapestOnline = cheaper(t.cheapestOnline, n.hourlyRateMicroUsd);
    if (a === 'idle') {
      t.idle += 1;
      t.cheapestIdle = cheaper(t.cheapestIdle, n.hourlyRateMicroUsd);
    }
  }
  return t;
}

/** The cheapest idle node's rate, else the cheapest online node's (queued); null when none is online. */
export function offerOf(t: Tally): Offer | null {
  if (t.cheapestIdle != null) return { rateMicroUsd: t.cheapestIdle, queued: false };
  if (t.cheapestOnline != null) return { rateMicroUsd: t.cheapestOnline, queued: true };
  return null;
}

/** The rate a rental of `gpu` (pinned to `region`, or anywhere) offers now. */
export function offer(nodes: NodeFacts[], gpu: number, region: number | null, heartbeatTimeoutSecs: number, now: bigint): Offer | null {
  return offerOf(tally(nodes.filter((n) => n.gpuModel === gpu && (region == null || n.region === region)), heartbeatTimeoutSecs, now));
}

const text = (bytes: ReadonlyUint8Array) => {
  const end = bytes.indexOf(0);
  return new TextDecoder().decode(bytes.slice(0, end < 0 ? bytes.length : end));
};

async function programAccounts<T>(ctx: ChainContext, discriminator: Uint8Array, decode: (bytes: Uint8Array) => T): Promise<T[]> {
  const listed = await ctx.rpc
    .getProgramAccounts(CALOR_PROGRAM_ADDRESS, {
      encoding: 'base64',
      commitment: 'confirmed',
      filters: [{ memcmp: { offset: 0n, bytes: getBase58Decoder().decode(discriminator) as never, encoding: 'base58' } }],
    })
    .send();
  return listed.map((a) => decode(fromBase64(a.account.data[0])));
}

type GpuCatalog = components['schemas']['GpuCatalog'];

/**
 * The catalog as `GET /api/gpus` describes it, read from the chain's accounts: every model with
 * idle and online nodes per active region and the rate a rental offers, market and in Calor.
 * The USD prices of SOL and Calor are left out (the quote reads them itself).
 */
export async function catalogOnChain(ctx: ChainContext): Promise<GpuCatalog> {
  const [config, now, models, regions, nodes] = await Promise.all([
    readConfig(ctx),
    chainTime(ctx),
    programAccounts<GpuModel>(ctx, GPU_MODEL_DISCRIMINATOR, (b) => getGpuModelDecoder().decode(b)),
    programAccounts<Region>(ctx, REGION_DISCRIMINATOR, (b) => getRegionDecoder().decode(b)),
    programAccounts<Node>(ctx, NODE_DISCRIMINATOR, (b) => getNodeDecoder().decode(b)),
  ]);
  const params = config.data.params;
  const rate = (micro: bigint | null) => {
    if (micro == null) return null;
    const calor = subsidisedUsd(micro, params.calorSubsidyBps);
    return {
      marketMicroUsd: Number(micro),
      marketUsdPerHour: Number(micro) / 1e6,
      calorMicroUsd: Number(calor),
      calorUsdPerHour: Number(calor) / 1e6,
    };
  };
  const active = regions.filter((r) => r.active !== 0).sort((a, b) => a.id - b.id);
  return {
    models: models
      .sort((a, b) => a.id - b.id)
      .map((m) => {
        const perRegion = active.map((r) => ({
          region: r,
          tally: tally(
            nodes.filter((n) => n.gpuModel === m.id && n.region === r.id),
            params.heartbeatTimeoutSecs,
            now,
          ),
        }));
        const total = perRegion.reduce<Tally>(
          (sum, { tally: t }) => ({
            idle: sum.idle + t.idle,
            online: sum.online + t.online,
            cheapestIdle: min(sum.cheapestIdle, t.cheapestIdle),
            cheapestOnline: min(sum.cheapestOnline, t.cheapestOnline),
          }),
          { idle: 0, online: 0, cheapestIdle: null, cheapestOnline: null },
        );
        return {
          id: m.id,
          name: text(m.name),
          architecture: text(m.architecture),
          vramGb: m.vramGb,
          fp16Tflops: m.fp16Tflops,
          active: m.active !== 0,
          idleNodes: total.idle,
          totalNodes: total.online,
          rate: rate(offerOf(total)?.rateMicroUsd ?? null),
          regions: perRegion.map(({ region: r, tally: t }) => ({
            id: r.id,
            code: text(r.code),
            name: text(r.name),
            idleNodes: t.idle,
            totalNodes: t.online,
            rate: rate(offerOf(t)?.rateMicroUsd ?? null),
          })),
        };
      }),
    solUsd: null,
    calorUsd: Number(config.data.calorPriceMicroUsd) / 1e6,
    calorSubsidyBps: params.calorSubsidyBps,
    minimumRentalUsd: Number(params.minRentalMicroUsd) / 1e6,
    chainTime: Number(now),
  };
}
