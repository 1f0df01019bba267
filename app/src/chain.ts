// The chain directly, through @calor/sdk (the same builders the TypeScript SDK uses): quoting,
// opening, extending, stopping, claiming refunds and staking, bound to this page's cluster;
// and sending what the connected wallet signs, straight to the RPC node (no API involved).
import { getTransactionEncoder, type Base64EncodedWireTransaction, type Instruction } from '@solana/kit';
import type { Wallet, WalletAccount } from '@wallet-standard/base';
import {
  catalogOnChain as catalogOnChainOn,
  claimInstruction,
  claimRefundInstructions as claimRefundInstructionsOn,
  depositInstruction,
  extendInstruction as extendInstructionOn,
  openInstruction as openInstructionOn,
  quoteExtensionOnChain as quoteExtensionOnChainOn,
  quoteOnChain as quoteOnChainOn,
  readRental as readRentalOn,
  readStaking as readStakingOn,
  stopInstructions as stopInstructionsOn,
  unsignedTransaction,
  withdrawInstruction,
  type ChainContext,
} from '@calor/sdk';

import { chain, rpc } from './rpc';
import { base64, signTransaction } from './wallet';

export { SLIPPAGE_BPS, stateName, stakeNow, type ChainQuote, type StakingView } from '@calor/sdk';

type Rest<F> = F extends (ctx: ChainContext, ...rest: infer A) => infer R ? (...rest: A) => R : never;

/** `f` with this page's chain context as its first argument. */
function bound<F extends (ctx: ChainContext, ...rest: never[]) => Promise<unknown>>(f: F): Rest<F> {
  return (async (...rest: never[]) => f(await chain(), ...rest)) as Rest<F>;
}

export const quoteOnChain = bound(quoteOnChainOn);
export const quoteExtensionOnChain = bound(quoteExtensionOnChainOn);
export const extendInstruction = bound(extendInstructionOn);
export const openInstruction = bound(openInstructionOn);
export const readRental = bound(readRentalOn);
export const stopInstructions = bound(stopInstructionsOn);
export const claimRefundInstructions = bound(claimRefundInstructionsOn);
export const readStaking = bound(readStakingOn);
export const catalogOnChain = bound(catalogOnChainOn);
export { depositInstruction, withdrawInstruction, claimInstruction };

/** Builds, has the wallet sign and sends a transaction of `instructions`; its signature. */
export async function signAndSend(
  wallet: Wallet,
  account: WalletAccount,
  instructions: Instruction[],
): Promise<string> {
  const transaction = await unsignedTransaction(await chain(), account.address, instructions);
  const unsigned = new Uint8Array(getTransactionEncoder().encode(transaction));
  const signed = await signTransaction(wallet, account, unsigned);
  const wire = base64.encode(signed) as Base64EncodedWireTransaction;
  return rpc.sendTransaction(wire, { encoding: 'base64', preflightCommitment: 'confirmed' }).send();
}
