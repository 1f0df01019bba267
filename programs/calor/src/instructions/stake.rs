use anchor_lang::prelude::*;

use crate::constants::STAKE_SEED;
use crate::errors::CalorError;
use crate::instructions::staking_rules::{deposit_pending, StakeTokens};
use crate::pda_accounts::{init_account, write_borsh};
use crate::state::{Config, Stake, StakePool};

/// Opens the owner's stake account with a first deposit. The tokens earn from the next
/// epoch on, and vote and give priority once seasoned (an epoch later).
///
/// Account proofs: `config`, `stake_pool` by owner and discriminator (singletons);
/// `stake_vault` by the pool's record of it; the mint, the owner's token account and the token
/// program by `StakeTokens::checked`.
#[derive(Accounts)]
pub struct CreateStake<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub stake_pool: Box<Account<'info, StakePool>>,
    /// CHECK: created here at `[STAKE_SEED, owner]`.
    #[account(mut)]
    pub stake: UncheckedAccount<'info>,
    /// CHECK: the pool's stake vault (`address`).
    #[account(mut, address = stake_pool.stake_vault @ CalorError::WrongVault)]
    pub stake_vault: UncheckedAccount<'info>,
    /// CHECK: the config's Calor mint (`StakeTokens::checked`).
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: a Calor account the owner signs for (`StakeTokens::checked`, the token program).
    #[account(mut)]
    pub owner_token: UncheckedAccount<'info>,
    #[account(mut)]
    pub owner: Signer<'info>,
    /// CHECK: SPL Token or Token-2022 (`StakeTokens::checked`).
    pub token_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<CreateStake>, amount: u64) -> Result<()> {
    require!(amount > 0, CalorError::ZeroAmount);
    let a = ctx.accounts;
    let config = a.config.load()?;
    require!(!config.is_paused(), CalorError::Paused);
    let tokens = StakeTokens::checked(&config, &a.calor_mint, &a.owner_token, &a.token_program)?;
    let owner = a.owner.key();
    let bump = init_account(
        &a.owner,
        &a.stake,
        &a.system_program,
        &[STAKE_SEED, owner.as_ref()],
        8 + Stake::INIT_SPACE,
    )?;
    let mut stake = Stake {
        owner,
        active: 0,
        pending: 0,
        pending_epoch: a.stake_pool.epoch,
        reward_checkpoint: a.stake_pool.acc_reward_per_share,
        unclaimed: 0,
        deposits: Default::default(),
        locked_until: 0,
        priority_rentals: 0,
        priority_floor: 0,
        bump,
    };
    tokens.pull(&a.owner, &a.stake_vault, amount)?;
    deposit_pending(&mut a.stake_pool, &mut stake, amount)?;
    write_borsh(&a.stake, &stake)
}
