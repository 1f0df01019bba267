// Staking: the owner's Calor account, stake and pool read from the chain, and
// `stake` / `add_stake` / `unstake` / `claim_rewards` built with the program client generated
// from the IDL, signed by the wallet and sent to the RPC node (no Calor server involved).
import { address, createNoopSigner, type Address, type Instruction } from '@solana/kit';

import { CONFIG_SEED, EPOCH_SEED, STAKE_POOL_SEED, STAKE_SEED } from './generated/constants';
import { fetchMaybeStake, type Stake } from './generated/program/accounts/stake';
import { fetchStakePool, type StakePool } from './generated/program/accounts/stakePool';
import { getAddStakeInstruction } from './generated/program/instructions/addStake';
import { getClaimRewardsInstruction } from './generated/program/instructions/claimRewards';
import { getStakeInstruction } from './generated/program/instructions/stake';
import { getUnstakeInstruction } from './generated/program/instructions/unstake';
import { addressBytes, le, pda, readConfig, type ChainContext } from './context';
import { calorAccount } from './token';

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

export async function readStaking(ctx: ChainContext, owner: string): Promise<StakingView> {
  const commitment = 'confirmed' as const;
  const config = await readConfig(ctx);
  const calorMint = config.data.calorMint;
  const [tokens, pool, stake] = await Promise.all([
    calorAccount(ctx, owner, calorMint),
    pda([STAKE_POOL_SEED]).then((a) => fetchStakePool(ctx.rpc, a, { commitment })),
    pda([STAKE_SEED, addressBytes(owner)]).then((a) => fetchMaybeStake(ctx.rpc, a, { commitment })),
  ]);
  return {
    owner: address(owner),
    calorMint,
    calorDecimals: config.data.calorDecimals,
    tokenProgram: tokens.tokenProgram,
    ownerToken: tokens.account,
    balance: tokens.balance,
    pool: pool.data,
    stake: stake.exists ? stake.data : null,
  };
}

/**
 * The epoch of the stake's pending tokens when that epoch has ended: they earn from its end,
 * and the program credits them with its record (calor_client::accounts::epoch_record_needed).
 */
function endedPendingEpoch(view: StakingView): bigint | null {
  const s = view.stake;
  return s && s.pending > 0n && s.pendingEpoch < view.pool.epoch ? s.pendingEpoch : null;
}

/** The record an instruction on the stake must name, if any. */
async function epochRecord(view: StakingView): Promise<Address | undefined> {
  const epoch = endedPendingEpoch(view);
  return epoch == null ? undefined : pda([EPOCH_SEED, le(epoch, 8)]);
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

/**
 * Earning and waiting tokens as the program counts them now (`Stake::sync`): tokens pending in
 * an epoch that has ended earn already, although the account shows them as pending until the
 * owner's next instruction.
 */
export function stakeNow(view: StakingView): { active: bigint; pending: bigint } {
  const s = view.stake;
  if (!s) return { active: 0n, pending: 0n };
  return endedPendingEpoch(view) == null
    ? { active: s.active, pending: s.pending }
    : { active: s.active + s.pending, pending: 0n };
}
