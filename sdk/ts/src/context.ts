// The RPC node and the program's addresses: what every module that talks to the chain shares.
// Each call takes a `ChainContext` (the RPC client and the SOL/USD price account), so one
// process can talk to several clusters.
import {
  address,
  createSolanaRpc,
  getAddressEncoder,
  getBase64Encoder,
  getProgramDerivedAddress,
  type Address,
  type Rpc,
  type SolanaRpcApi,
} from '@solana/kit';

import { CONFIG_SEED } from './generated/constants';
import { fetchConfig } from './generated/program/accounts/config';
import { CALOR_PROGRAM_ADDRESS } from './generated/program/programs';
import { PYTH_RECEIVER_PROGRAM } from './rules/pyth';

export type ChainContext = {
  rpc: Rpc<SolanaRpcApi>;
  /** The SOL/USD `PriceUpdateV2` account the program reads. */
  solUsd: Address;
};

/** Where a local chain keeps its SOL/USD price (calor_client::pyth::local_sol_usd_price_account). */
export async function localSolUsdAccount(): Promise<Address> {
  const [local] = await getProgramDerivedAddress({
    programAddress: address(PYTH_RECEIVER_PROGRAM),
    seeds: [new TextEncoder().encode('calor-local-sol-usd')],
  });
  return local;
}

/**
 * Pyth's sponsored SOL/USD feed on a public cluster: shard 0 of the push oracle for the SOL/USD
 * feed id (calor_client::pyth::sponsored_sol_usd_price_account, whose test pins the address).
 */
export async function sponsoredSolUsdAccount(): Promise<Address> {
  const feed = Uint8Array.from(
    'ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d'.match(/../g)!.map((h) => parseInt(h, 16)),
  );
  const [account] = await getProgramDerivedAddress({
    programAddress: address('pythWSnswVUd12oZpeFP8e9CVaEqJg25g1Vtc2biRsT'),
    seeds: [new Uint8Array([0, 0]), feed],
  });
  return account;
}

/** A context for the RPC node at `rpcUrl`; the SOL/USD account is the cluster's usual one. */
export async function chainContext(rpcUrl: string, solUsd?: Address): Promise<ChainContext> {
  const local = /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(rpcUrl);
  return {
    rpc: createSolanaRpc(rpcUrl),
    solUsd: solUsd ?? (local ? await localSolUsdAccount() : await sponsoredSolUsdAccount()),
  };
}

/** The program's PDA of `seeds`, with its bump (for accounts the program creates). */
export async function pdaWithBump(seeds: Uint8Array[]): Promise<readonly [Address, number]> {
  return getProgramDerivedAddress({ programAddress: CALOR_PROGRAM_ADDRESS, seeds });
}

/** The program's PDA of `seeds`. */
export async function pda(seeds: Uint8Array[]): Promise<Address> {
  const [found] = await pdaWithBump(seeds);
  return found;
}

/** The protocol's `Config` account as the chain has it now. */
export async function readConfig(ctx: ChainContext) {
  return fetchConfig(ctx.rpc, await pda([CONFIG_SEED]), { commitment: 'confirmed' });
}

export const addressBytes = (a: string) => new Uint8Array(getAddressEncoder().encode(address(a)));

/** Base64 account data as bytes. */
export const fromBase64 = (text: string) => new Uint8Array(getBase64Encoder().encode(text));

/** `value` as `bytes` little-endian bytes (the program's u16 and u64 seeds). */
export const le = (value: bigint, bytes: number) => {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
};
