// Calor token accounts: the mint's token program (SPL Token or Token-2022: whichever owns it)
// and a wallet's associated account of the mint, as the program and wallets expect them.
import {
  AccountRole,
  address,
  getProgramDerivedAddress,
  type Address,
  type Instruction,
} from '@solana/kit';

import { addressBytes, type ChainContext } from './context';

const ASSOCIATED_TOKEN_PROGRAM = address('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');
const SYSTEM_PROGRAM = address('11111111111111111111111111111111');
/** The associated token program's `CreateIdempotent`: does nothing when the account exists. */
const CREATE_IDEMPOTENT = 1;

/** Bytes of a token account (a rental's Calor escrow is one): its rent is held, then returned. */
export const TOKEN_ACCOUNT_LEN = 165n;

export type CalorAccount = {
  tokenProgram: Address;
  /** `owner`'s associated account of the mint. */
  account: Address;
  /** Base units in it (0 when it does not exist yet). */
  balance: bigint;
};

/** `owner`'s associated token account of `mint` under `tokenProgram`. */
export async function associatedAccount(owner: string, mint: Address, tokenProgram: Address): Promise<Address> {
  const [account] = await getProgramDerivedAddress({
    programAddress: ASSOCIATED_TOKEN_PROGRAM,
    seeds: [addressBytes(owner), addressBytes(tokenProgram), addressBytes(mint)],
  });
  return account;
}

/** Whether an account exists at `account` (it holds lamports). */
export async function accountExists(ctx: ChainContext, account: Address): Promise<boolean> {
  const { value } = await ctx.rpc.getBalance(account, { commitment: 'confirmed' }).send();
  return value > 0n;
}

export async function calorAccount(ctx: ChainContext, owner: string, calorMint: Address): Promise<CalorAccount> {
  const commitment = 'confirmed' as const;
  const mint = await ctx.rpc.getAccountInfo(calorMint, { encoding: 'base64', commitment }).send();
  if (!mint.value) throw new Error(`the Calor mint ${calorMint} does not exist on this chain`);
  const tokenProgram = mint.value.owner;
  const account = await associatedAccount(owner, calorMint, tokenProgram);
  const balance = await ctx.rpc
    .getTokenAccountBalance(account, { commitment })
    .send()
    .then(
      (r) => BigInt(r.value.amount),
      () => 0n, // no account yet
    );
  return { tokenProgram, account, balance };
}

/** Creates `owner`'s associated account of `mint` if it is missing, its rent paid by `payer`. */
export async function createAssociatedIdempotent(
  payer: Address,
  owner: Address,
  mint: Address,
  tokenProgram: Address,
): Promise<Instruction> {
  return {
    programAddress: ASSOCIATED_TOKEN_PROGRAM,
    accounts: [
      { address: payer, role: AccountRole.WRITABLE_SIGNER },
      { address: await associatedAccount(owner, mint, tokenProgram), role: AccountRole.WRITABLE },
      { address: owner, role: AccountRole.READONLY },
      { address: mint, role: AccountRole.READONLY },
      { address: SYSTEM_PROGRAM, role: AccountRole.READONLY },
      { address: tokenProgram, role: AccountRole.READONLY },
    ],
    data: new Uint8Array([CREATE_IDEMPOTENT]),
  };
}
