use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::constants::{CONFIG_SEED, EPOCH_SEED, STAKE_POOL_SEED};
use crate::errors::CalorError;
use crate::events::EpochAdvanced;
use crate::math;
use crate::state::{Config, EpochRecord, StakePool};

/// Anyone, once the epoch has run its length: spreads the rewards that arrived over the
/// stake active during the epoch, records the accumulator, activates pending stake and
/// starts the next epoch. The caller pays the record's rent (1,287,600 lamports for 57 bytes).
#[derive(Accounts)]
pub struct AdvanceEpoch<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [STAKE_POOL_SEED], bump = stake_pool.bump)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(address = stake_pool.rewards_vault)]
    pub rewards_vault: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(init, payer = payer, space = 8 + EpochRecord::INIT_SPACE,
              seeds = [EPOCH_SEED, &stake_pool.epoch.to_le_bytes()], bump)]
    pub epoch_record: Box<Account<'info, EpochRecord>>,
    #[account(mut)]
    pub payer: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<AdvanceEpoch>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let epoch_secs = i64::from(ctx.accounts.config.params.staking.epoch_secs);
    let pool = &mut ctx.accounts.stake_pool;
    require!(
        now >= pool.epoch_started_at.saturating_add(epoch_secs),
        CalorError::EpochNotEnded
    );
    // Everything in the vault not owed yet: fees of this epoch, anything left over from
    // epochs without stake, and tokens donated to the vault.
    let available = ctx
        .accounts
        .rewards_vault
        .amount
        .saturating_sub(pool.reserved_rewards);
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
    ctx.accounts.epoch_record.set_inner(EpochRecord {
        epoch: pool.epoch,
        acc_reward_per_share: pool.acc_reward_per_share,
        distributed: d.committed,
        active_stake: pool.active_stake,
        ended_at: now,
        bump: ctx.bumps.epoch_record,
    });
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
