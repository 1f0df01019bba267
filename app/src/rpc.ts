// The cluster this page talks to: the RPC node and the SOL/USD price account, bound once into
// the context every @calor/sdk chain call takes.
import { address, createSolanaRpc } from '@solana/kit';
import { localSolUsdAccount, type ChainContext } from '@calor/sdk';

/** The RPC node: `?rpc=` on the page, the build's VITE_CALOR_RPC, or the local chain's. */
export const rpcUrl: string =
  new URLSearchParams(window.location.search).get('rpc') ??
  (import.meta.env.VITE_CALOR_RPC as string | undefined) ??
  'http://127.0.0.1:8899';

export const rpc = createSolanaRpc(rpcUrl);

/**
 * The SOL/USD price update the program reads: `?solUsd=` on the page, the build's
 * VITE_CALOR_SOL_USD_ACCOUNT (Pyth's sponsored feed on a public cluster), or where the local
 * chain keeps it.
 */
const configuredSolUsd =
  new URLSearchParams(window.location.search).get('solUsd') ??
  (import.meta.env.VITE_CALOR_SOL_USD_ACCOUNT as string | undefined);

let context: Promise<ChainContext> | null = null;

/** The page's chain context, made on first use. */
export function chain(): Promise<ChainContext> {
  context ??= (async () => ({
    rpc,
    solUsd: configuredSolUsd ? address(configuredSolUsd) : await localSolUsdAccount(),
  }))();
  return context;
}
