// Calor token accounts: the mint's token program (SPL Token or Token-2022: whichever owns it)
// and a wallet's associated account of the mint, as the program and wallets expect them.
import { address, getProgramDerivedAddress, type Address } from '@solana/kit';

import { addressBytes, rpc } from './rpc';

const ASSOCIATED_TOKEN_PROGRAM = address('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');

/** Bytes of a token account (a rental's Calor escrow is one): its rent is held, then returned. */
export const TOKEN_ACCOUNT_LEN = 165n;

export type CalorAccount = {
  tokenProgram: Address;
  /** `owner`'s associated account of the mint. */
  account: Address;
  /** Base units in it (0 when it does not exist yet). */
  balance: bigint;
};

export async function calorAccount(owner: string, calorMint: Address): Promise<CalorAccount> {
  const commitment = 'confirmed' as const;
  const mint = await rpc.getAccountInfo(calorMint, { encoding: 'base64', commitment }).send();
  if (!mint.value) throw new Error(`the Calor mint ${calorMint} does not exist on this chain`);
  const tokenProgram = mint.value.owner;
  const [account] = await getProgramDerivedAddress({
    programAddress: ASSOCIATED_TOKEN_PROGRAM,
    seeds: [addressBytes(owner), addressBytes(tokenProgram), addressBytes(calorMint)],
  });
  const balance = await rpc
    .getTokenAccountBalance(account, { commitment })
    .send()
    .then(
      (r) => BigInt(r.value.amount),
      () => 0n, // no account yet
    );
  return { tokenProgram, account, balance };
}
