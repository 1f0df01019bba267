use anchor_lang::prelude::*;

use crate::constants::{EPOCH_SEED, SUBSIDY_POOL_SEED};
use crate::errors::CalorError;
use crate::events::EpochAdvanced;
use crate::pda_accounts::{init_account, write_borsh};
use crate::state::{Config, EpochRecord, StakePool, SubsidyPool};
use crate::{math, token};

/// Anyone, once the epoch has run its length: moves the stakers' share of the epoch's Calor
/// fees from the subsidy vault to the rewards vault, spreads the rewards that arrived over
/// the stake active during the epoch, records the accumulator, activates pending stake and
/// starts the next epoch. The caller pays the record's rent (1,287,600 lamports for 57
/// bytes).
///
/// Account proofs: `config`, `stake_pool`, `subsidy_pool` by owner and discriminator (each
/// exists only at its PDA); the vaults and the mint by the addresses those hold.
#[derive(Accounts)]
pub struct AdvanceEpoch<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(mut)]
    pub subsidy_pool: AccountLoader<'info, SubsidyPool>,
    /// CHECK: compared with `subsidy_pool.vault`.
    #[account(mut)]
    pub subsidy_vault: UncheckedAccount<'info>,
    /// CHECK: compared with `stake_pool.rewards_vault` (its balance is read in place).
    #[account(mut, address = stake_pool.rewards_vault @ CalorError::WrongVault)]
    pub rewards_vault: UncheckedAccount<'info>,
    /// CHECK: compared with `config.calor_mint`.
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: created here at `[EPOCH_SEED, epoch]`.
    #[account(mut)]
    pub epoch_record: UncheckedAccount<'info>,
    #[account(mut)]
    pub payer: Signer<'info>,
    /// CHECK: SPL Token or Token-2022 (`token::require_token_program`).
    pub token_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<AdvanceEpoch>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    let config = a.config.load()?;
    let epoch_secs = i64::from(config.params.staking.epoch_secs);
    require!(
        now >= a.stake_pool.epoch_started_at.saturating_add(epoch_secs),
        CalorError::EpochNotEnded
    );
    require_keys_eq!(a.calor_mint.key(), config.calor_mint, CalorError::WrongMint);
    token::require_token_program(&a.token_program)?;
    {
        let mut subsidy = a.subsidy_pool.load_mut()?;
        require_keys_eq!(a.subsidy_vault.key(), subsidy.vault, CalorError::WrongVault);
        let owed = core::mem::take(&mut subsidy.staker_rewards_owed);
        if owed > 0 {
            let seeds: &[&[u8]] = &[SUBSIDY_POOL_SEED, &[subsidy.bump]];
            drop(subsidy);
            token::transfer_checked(
                &a.token_program,
                &a.subsidy_vault,
                &a.calor_mint,
                &a.rewards_vault,
                &a.subsidy_pool.to_account_info(),
                owed,
                config.calor_decimals,
                &[seeds],
            )?;
        }
    }
    let pool = &mut a.stake_pool;
    // Everything in the vault not owed yet: fees of this epoch, anything left over from
    // epochs without stake, and tokens donated to the vault.
    let available = crate::token::amount(&a.rewards_vault)?.saturating_sub(pool.reserved_rewards);
    let d = math::distribute(available, pool.active_stake)?;
    pool.acc_reward_per_share = pool
        .acc_reward_per_share
        .checked_add(d.per_share_increment)
        .ok_or(CalorError::MathOverflow)?;
    pool.reserved_rewards = pool
        .reserved_rewards
        .checked_add(d.committed)
        .ok_or(CalorError::MathOverflow)?;
    pool.rewards_distributed = pool
        .rewards_distributed
        .checked_add(d.committed)
        .ok_or(CalorError::MathOverflow)?;
    let bump = init_account(
        &a.payer,
        &a.epoch_record,
        &a.system_program,
        &[EPOCH_SEED, &pool.epoch.to_le_bytes()],
        8 + EpochRecord::INIT_SPACE,
    )?;
    write_borsh(
        &a.epoch_record,
        &EpochRecord {
            epoch: pool.epoch,
            acc_reward_per_share: pool.acc_reward_per_share,
            distributed: d.committed,
            active_stake: pool.active_stake,
            ended_at: now,
            bump,
        },
    )?;
    emit!(EpochAdvanced {
        epoch: pool.epoch,
        distributed: d.committed,
        active_stake: pool.active_stake,
        acc_reward_per_share: pool.acc_reward_per_share,
    });
    pool.active_stake = pool
        .active_stake
        .checked_add(pool.pending_stake)
        .ok_or(CalorError::MathOverflow)?;
    pool.pending_stake = 0;
    pool.epoch += 1;
    pool.epoch_started_at = now;
    Ok(())
}
