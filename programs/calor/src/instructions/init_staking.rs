use anchor_lang::prelude::*;

use crate::constants::{
    REWARDS_VAULT_SEED, STAKE_POOL_SEED, STAKE_VAULT_SEED, SUBSIDY_POOL_SEED, SUBSIDY_VAULT_SEED,
};
use crate::errors::CalorError;
use crate::events::StakingInitialized;
use crate::pda_accounts::{create_pda, init_account, space_of, write_borsh, write_new};
use crate::state::{Config, StakePool, SubsidyPool};
use crate::token;

/// The config authority creates the stake pool with its two vaults and the subsidy pool with
/// its vault, once. Calor rentals need all of them (their settlement pays into them).
#[derive(Accounts)]
pub struct InitStaking<'info> {
    #[account(has_one = authority @ CalorError::NotConfigAuthority,
              has_one = calor_mint @ CalorError::WrongMint)]
    pub config: AccountLoader<'info, Config>,
    /// CHECK: created here at `[STAKE_POOL_SEED]`.
    #[account(mut)]
    pub stake_pool: UncheckedAccount<'info>,
    /// CHECK: the config's Calor mint (`has_one`).
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: created here at `[STAKE_VAULT_SEED]`, a token account owned by the stake pool.
    #[account(mut)]
    pub stake_vault: UncheckedAccount<'info>,
    /// CHECK: created here at `[REWARDS_VAULT_SEED]`, owned by the stake pool.
    #[account(mut)]
    pub rewards_vault: UncheckedAccount<'info>,
    /// CHECK: created here at `[SUBSIDY_POOL_SEED]`.
    #[account(mut)]
    pub subsidy_pool: UncheckedAccount<'info>,
    /// CHECK: created here at `[SUBSIDY_VAULT_SEED]`, owned by the subsidy pool.
    #[account(mut)]
    pub subsidy_vault: UncheckedAccount<'info>,
    #[account(mut)]
    pub authority: Signer<'info>,
    /// CHECK: SPL Token or Token-2022 (`token::require_token_program`); the mint's owner, or
    /// the vaults' initialisation fails.
    pub token_program: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl<'info> InitStaking<'info> {
    /// Creates the token account at `[seed]` owned by `owner`; returns its bump.
    fn create_vault(&self, vault: &AccountInfo<'info>, seed: &[u8], owner: &Pubkey) -> Result<u8> {
        let (address, bump) = Pubkey::find_program_address(&[seed], &crate::ID);
        require_keys_eq!(vault.key(), address, CalorError::WrongVault);
        require!(vault.data_is_empty(), CalorError::AlreadyExists);
        create_pda(
            &self.authority,
            vault,
            &self.system_program,
            self.token_program.key,
            token::ACCOUNT_LEN,
            Rent::get()?.minimum_balance(token::ACCOUNT_LEN),
            &[seed, &[bump]],
        )?;
        token::initialize_account3(&self.token_program, vault, &self.calor_mint, owner)?;
        Ok(bump)
    }
}

pub fn handler(ctx: Context<InitStaking>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    token::require_token_program(&a.token_program)?;
    let (pool_key, subsidy_key) = (a.stake_pool.key(), a.subsidy_pool.key());
    let pool_bump = init_account(
        &a.authority,
        &a.stake_pool,
        &a.system_program,
        &[STAKE_POOL_SEED],
        8 + StakePool::INIT_SPACE,
    )?;
    let subsidy_bump = init_account(
        &a.authority,
        &a.subsidy_pool,
        &a.system_program,
        &[SUBSIDY_POOL_SEED],
        space_of::<SubsidyPool>(),
    )?;
    let stake_vault_bump = a.create_vault(&a.stake_vault, STAKE_VAULT_SEED, &pool_key)?;
    let rewards_vault_bump = a.create_vault(&a.rewards_vault, REWARDS_VAULT_SEED, &pool_key)?;
    let subsidy_vault_bump = a.create_vault(&a.subsidy_vault, SUBSIDY_VAULT_SEED, &subsidy_key)?;
    let stake_pool = StakePool {
        stake_vault: a.stake_vault.key(),
        rewards_vault: a.rewards_vault.key(),
        epoch: 0,
        epoch_started_at: now,
        active_stake: 0,
        pending_stake: 0,
        acc_reward_per_share: 0,
        reserved_rewards: 0,
        rewards_distributed: 0,
        rewards_claimed: 0,
        proposal_count: 0,
        bump: pool_bump,
        stake_vault_bump,
        rewards_vault_bump,
    };
    write_borsh(&a.stake_pool, &stake_pool)?;
    let subsidy_pool = SubsidyPool {
        vault: a.subsidy_vault.key(),
        rewards_vault: a.rewards_vault.key(),
        reserved: 0,
        staker_rewards_owed: 0,
        budget_epoch_started_at: now,
        budget_used: 0,
        bump: subsidy_bump,
        vault_bump: subsidy_vault_bump,
        _padding: [0; 6],
    };
    write_new(&a.subsidy_pool, &subsidy_pool)?;
    emit!(StakingInitialized {
        stake_pool: pool_key,
        stake_vault: a.stake_vault.key(),
        rewards_vault: a.rewards_vault.key(),
        subsidy_pool: subsidy_key,
        subsidy_vault: a.subsidy_vault.key(),
    });
    Ok(())
}
