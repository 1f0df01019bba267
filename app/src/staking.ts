// Staking from the browser: the renter's Calor account, stake and pool read from the chain, and
// `stake` / `add_stake` / `unstake` / `claim_rewards` built with the program client generated
// from the IDL, signed by the wallet and sent to the RPC node (no Calor server involved).
import { address, createNoopSigner, getProgramDerivedAddress, type Address, type Instruction } from '@solana/kit';

import { addressBytes, le, pda, rpc } from './chain';
import { CONFIG_SEED, EPOCH_SEED, STAKE_POOL_SEED, STAKE_SEED } from './generated/constants';
import { fetchConfig } from './generated/program/accounts/config';
import { fetchMaybeStake, type Stake } from './generated/program/accounts/stake';
import { fetchStakePool, type StakePool } from './generated/program/accounts/stakePool';
import { getAddStakeInstruction } from './generated/program/instructions/addStake';
import { getClaimRewardsInstruction } from './generated/program/instructions/claimRewards';
import { getStakeInstruction } from './generated/program/instructions/stake';
import { getUnstakeInstruction } from './generated/program/instructions/unstake';

const ASSOCIATED_TOKEN_PROGRAM = address('ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL');

/** Everything a staking transaction names, read once per page load. */
export type StakingView = {
  owner: Address;
  calorMint: Address;
  calorDecimals: number;
  /** SPL Token or Token-2022: whichever owns the mint. */
  tokenProgram: Address;
  ownerToken: Address;
  /** Calor base units in the owner's associated account (0 when it does not exist). */
  balance: bigint;
  pool: StakePool;
  stake: Stake | null;
};

export async function readStaking(owner: string): Promise<StakingView> {
  const commitment = 'confirmed' as const;
  const config = await fetchConfig(rpc, await pda([CONFIG_SEED]), { commitment });
  const calorMint = config.data.calorMint;
  const mint = await rpc.getAccountInfo(calorMint, { encoding: 'base64', commitment }).send();
  if (!mint.value) throw new Error(`the Calor mint ${calorMint} does not exist on this chain`);
  const tokenProgram = mint.value.owner;
  const [ownerToken] = await getProgramDerivedAddress({
    programAddress: ASSOCIATED_TOKEN_PROGRAM,
    seeds: [addressBytes(owner), addressBytes(tokenProgram), addressBytes(calorMint)],
  });
  const [pool, stake, balance] = await Promise.all([
    pda([STAKE_POOL_SEED]).then((a) => fetchStakePool(rpc, a, { commitment })),
    pda([STAKE_SEED, addressBytes(owner)]).then((a) => fetchMaybeStake(rpc, a, { commitment })),
    rpc
      .getTokenAccountBalance(ownerToken, { commitment })
      .send()
      .then(
        (r) => BigInt(r.value.amount),
        () => 0n, // no account yet: nothing to stake
      ),
  ]);
  return {
    owner: address(owner),
    calorMint,
    calorDecimals: config.data.calorDecimals,
    tokenProgram,
    ownerToken,
    balance,
    pool: pool.data,
    stake: stake.exists ? stake.data : null,
  };
}

/**
 * The epoch record the program needs to credit pending tokens whose epoch has ended
 * (calor_client::accounts::epoch_record_needed).
 */
async function epochRecord(view: StakingView): Promise<Address | undefined> {
  const s = view.stake;
  if (!s || s.pending === 0n || s.pendingEpoch >= view.pool.epoch) return undefined;
  return pda([EPOCH_SEED, le(s.pendingEpoch, 8)]);
}

async function common(view: StakingView) {
  return {
    config: await pda([CONFIG_SEED]),
    stakePool: await pda([STAKE_POOL_SEED]),
    stake: await pda([STAKE_SEED, addressBytes(view.owner)]),
    calorMint: view.calorMint,
    ownerToken: view.ownerToken,
    owner: createNoopSigner(view.owner),
    tokenProgram: view.tokenProgram,
  };
}

/** `stake` for a first deposit, `add_stake` after. */
export async function depositInstruction(view: StakingView, amount: bigint): Promise<Instruction> {
  const accounts = await common(view);
  if (!view.stake) return getStakeInstruction({ ...accounts, stakeVault: view.pool.stakeVault, amount });
  return getAddStakeInstruction({ ...accounts, stakeVault: view.pool.stakeVault, epochRecord: await epochRecord(view), amount });
}

export async function withdrawInstruction(view: StakingView, amount: bigint): Promise<Instruction> {
  const accounts = await common(view);
  return getUnstakeInstruction({ ...accounts, stakeVault: view.pool.stakeVault, epochRecord: await epochRecord(view), amount });
}

export async function claimInstruction(view: StakingView): Promise<Instruction> {
  const accounts = await common(view);
  return getClaimRewardsInstruction({ ...accounts, rewardsVault: view.pool.rewardsVault, epochRecord: await epochRecord(view) });
}

/** Whole Calor typed by a person ("1500", "0.25") as base units; `null` when it is not one. */
export function parseCalor(text: string, decimals: number): bigint | null {
  const m = text.trim().match(/^(\d+)(?:\.(\d+))?$/);
  if (!m || (m[2] ?? '').length > decimals) return null;
  return BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt((m[2] ?? '').padEnd(decimals, '0') || '0');
}

/** Base units as whole Calor, trailing zeros dropped. */
export function calorText(units: bigint | number, decimals: number): string {
  const n = BigInt(units);
  const scale = 10n ** BigInt(decimals);
  const fraction = (n % scale).toString().padStart(decimals, '0').replace(/0+$/, '');
  return `${(n / scale).toLocaleString('en-US')}${fraction ? `.${fraction}` : ''} Calor`;
}
