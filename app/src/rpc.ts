// The RPC node and the program's addresses: what every module that talks to the chain shares.
import { address, createSolanaRpc, getAddressEncoder, getProgramDerivedAddress, type Address } from '@solana/kit';

import { CONFIG_SEED } from './generated/constants';
import { fetchConfig } from './generated/program/accounts/config';
import { CALOR_PROGRAM_ADDRESS } from './generated/program/programs';

/** The RPC node: `?rpc=` on the page, the build's VITE_CALOR_RPC, or the local chain's. */
export const rpcUrl: string =
  new URLSearchParams(window.location.search).get('rpc') ??
  (import.meta.env.VITE_CALOR_RPC as string | undefined) ??
  'http://127.0.0.1:8899';

export const rpc = createSolanaRpc(rpcUrl);

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
export async function readConfig() {
  return fetchConfig(rpc, await pda([CONFIG_SEED]), { commitment: 'confirmed' });
}

export const addressBytes = (a: string) => new Uint8Array(getAddressEncoder().encode(address(a)));

/** `value` as `bytes` little-endian bytes (the program's u16 and u64 seeds). */
export const le = (value: bigint, bytes: number) => {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
};
