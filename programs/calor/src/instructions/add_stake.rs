use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::instructions::staking_rules::{deposit_pending, StakeTokens};
use crate::state::{Config, EpochRecord, Stake, StakePool};

/// Adds to an existing stake. The new tokens earn from the next epoch on; what was already
/// active keeps earning.
///
/// Account proofs: as `stake`; the stake by its `owner` being the signer (a stake exists
/// only at its owner's PDA).
#[derive(Accounts)]
pub struct AddStake<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(mut, has_one = owner @ CalorError::NotStakeOwner)]
    pub stake: Box<Account<'info, Stake>>,
    /// The record of the epoch the stake's pending tokens were added in, once it has
    /// ended (checked in `Stake::sync`).
    pub epoch_record: Option<Box<Account<'info, EpochRecord>>>,
    /// CHECK: the pool's stake vault (`address`).
    #[account(mut, address = stake_pool.stake_vault @ CalorError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    /// CHECK: the config's Calor mint (`StakeTokens::checked`).
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: a Calor account the owner signs for (`StakeTokens::checked`, the token program).
    #[account(mut)]
    pub owner_token: UncheckedAccount<'info>,
    pub owner: Signer<'info>,
    /// CHECK: SPL Token or Token-2022 (`StakeTokens::checked`).
    pub token_program: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<AddStake>, amount: u64) -> Result<()> {
    require!(amount > 0, CalorError::ZeroAmount);
    let a = ctx.accounts;
    let config = a.config.load()?;
    require!(!config.is_paused(), CalorError::Paused);
    let tokens = StakeTokens::checked(&config, &a.calor_mint, &a.owner_token, &a.token_program)?;
    a.stake
        .sync(&a.stake_pool, a.epoch_record.as_deref().map(|r| &**r))?;
    tokens.pull(&a.owner, &a.stake_vault, amount)?;
    deposit_pending(&mut a.stake_pool, &mut a.stake, amount)
}
