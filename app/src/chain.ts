// The chain directly, for what must work with no Calor server: reading a rental and stopping it.
// Transactions are built here with the program client generated from the IDL, signed by the
// wallet and sent to the RPC node; the API is not involved.
import {
  address,
  appendTransactionMessageInstructions,
  compileTransaction,
  createNoopSigner,
  createSolanaRpc,
  createTransactionMessage,
  getAddressEncoder,
  getProgramDerivedAddress,
  getTransactionEncoder,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
  type Address,
  type Base64EncodedWireTransaction,
  type Instruction,
} from '@solana/kit';
import type { Wallet, WalletAccount } from '@wallet-standard/base';

import { CONFIG_SEED, STAKE_SEED } from './generated/constants';
import { fetchMaybeRental, type Rental } from './generated/program/accounts/rental';
import { getCancelInstruction } from './generated/program/instructions/cancel';
import { getCompleteInstruction } from './generated/program/instructions/complete';
import { getSettleSolInstruction } from './generated/program/instructions/settleSol';
import { CALOR_PROGRAM_ADDRESS } from './generated/program/programs';
import { RentalState } from './generated/program/types/rentalState';
import { base64, signTransaction } from './wallet';

/** The RPC node: `?rpc=` on the page, the build's VITE_CALOR_RPC, or the local chain's. */
export const rpcUrl: string =
  new URLSearchParams(window.location.search).get('rpc') ??
  (import.meta.env.VITE_CALOR_RPC as string | undefined) ??
  'http://127.0.0.1:8899';

export const rpc = createSolanaRpc(rpcUrl);

const DEFAULT_ADDRESS = '11111111111111111111111111111111';

async function pda(seeds: Uint8Array[]): Promise<Address> {
  const [found] = await getProgramDerivedAddress({ programAddress: CALOR_PROGRAM_ADDRESS, seeds });
  return found;
}

/** The rental as the chain has it now; `null` once settled (the account is closed). */
export async function readRental(rental: string): Promise<Rental | null> {
  const account = await fetchMaybeRental(rpc, address(rental), { commitment: 'confirmed' });
  return account.exists ? account.data : null;
}

/** What the rental's state allows a renter to do, in words. */
export function stateName(state: number): string {
  return RentalState[state]?.toLowerCase() ?? `state ${state}`;
}

/**
 * The instructions that stop a SOL rental and settle it: `cancel` while it is queued or being
 * provisioned, `complete` while it runs, then `settle_sol` (alone for one that has ended).
 */
export async function stopInstructions(rentalAddress: string, rental: Rental): Promise<Instruction[]> {
  const renter = createNoopSigner(rental.renter);
  const target = address(rentalAddress);
  const config = await pda([CONFIG_SEED]);
  const claimed = rental.node !== DEFAULT_ADDRESS;
  const instructions: Instruction[] = [];
  switch (rental.state) {
    case RentalState.Queued:
    case RentalState.Provisioning:
      instructions.push(
        getCancelInstruction({ config, rental: target, node: claimed ? rental.node : undefined, renter }),
      );
      break;
    case RentalState.Running:
      instructions.push(getCompleteInstruction({ rental: target, node: rental.node, signer: renter }));
      break;
    default:
      break;
  }
  const stake = rental.priority > 0 ? await pda([STAKE_SEED, new Uint8Array(getAddressEncoder().encode(rental.renter))]) : undefined;
  instructions.push(
    getSettleSolInstruction({
      config,
      rental: target,
      provider: rental.payee !== DEFAULT_ADDRESS ? rental.payee : undefined,
      renter: rental.renter,
      stake,
    }),
  );
  return instructions;
}

/** Builds, has the wallet sign and sends a transaction of `instructions`; its signature. */
export async function signAndSend(
  wallet: Wallet,
  account: WalletAccount,
  instructions: Instruction[],
): Promise<string> {
  const { value: blockhash } = await rpc.getLatestBlockhash({ commitment: 'confirmed' }).send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayer(address(account.address), m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(blockhash, m),
    (m) => appendTransactionMessageInstructions(instructions, m),
  );
  const unsigned = new Uint8Array(getTransactionEncoder().encode(compileTransaction(message)));
  const signed = await signTransaction(wallet, account, unsigned);
  const wire = base64.encode(signed) as Base64EncodedWireTransaction;
  return rpc.sendTransaction(wire, { encoding: 'base64', preflightCommitment: 'confirmed' }).send();
}
