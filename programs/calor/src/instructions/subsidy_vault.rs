//! The treasury's side of the subsidy vault: funding it and taking out what no rental has
//! reserved.
use anchor_lang::prelude::*;

use crate::constants::SUBSIDY_POOL_SEED;
use crate::errors::CalorError;
use crate::events::SubsidyVaultChanged;
use crate::state::{Config, SubsidyPool};
use crate::token;

/// Anyone (the treasury, usually) adds Calor to the subsidy vault.
///
/// Account proofs: `config`, `subsidy_pool` by owner and discriminator; `subsidy_vault` and
/// `calor_mint` by the addresses they hold; `from` by the token program (its owner signs).
#[derive(Accounts)]
pub struct FundSubsidy<'info> {
    pub config: AccountLoader<'info, Config>,
    pub subsidy_pool: AccountLoader<'info, SubsidyPool>,
    /// CHECK: compared with `subsidy_pool.vault`.
    #[account(mut)]
    pub subsidy_vault: UncheckedAccount<'info>,
    /// CHECK: compared with `config.calor_mint`.
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: the token program checks the mint and `owner`'s signature.
    #[account(mut)]
    pub from: UncheckedAccount<'info>,
    pub owner: Signer<'info>,
    /// CHECK: SPL Token or Token-2022 (`token::require_token_program`).
    pub token_program: UncheckedAccount<'info>,
}

pub fn fund_handler(ctx: Context<FundSubsidy>, amount: u64) -> Result<()> {
    require!(amount > 0, CalorError::ZeroAmount);
    let a = ctx.accounts;
    let config = a.config.load()?;
    let pool = a.subsidy_pool.load()?;
    require_keys_eq!(a.subsidy_vault.key(), pool.vault, CalorError::WrongVault);
    require_keys_eq!(a.calor_mint.key(), config.calor_mint, CalorError::WrongMint);
    token::require_token_program(&a.token_program)?;
    token::transfer_checked(
        &a.token_program,
        &a.from,
        &a.calor_mint,
        &a.subsidy_vault,
        &a.owner,
        amount,
        config.calor_decimals,
        &[],
    )?;
    emit!(SubsidyVaultChanged {
        funded: amount,
        withdrawn: 0,
        vault_balance: crate::token::amount(&a.subsidy_vault)?,
        reserved: pool.reserved,
    });
    Ok(())
}

/// The config authority sends Calor that no rental has reserved (and that is not owed to
/// stakers) to a token account of the treasury.
#[derive(Accounts)]
pub struct WithdrawSubsidy<'info> {
    #[account(has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: AccountLoader<'info, Config>,
    pub subsidy_pool: AccountLoader<'info, SubsidyPool>,
    /// CHECK: compared with `subsidy_pool.vault`.
    #[account(mut)]
    pub subsidy_vault: UncheckedAccount<'info>,
    /// CHECK: compared with `config.calor_mint`.
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: a token account owned by the config's treasury (`can_receive`).
    #[account(mut)]
    pub treasury_token: UncheckedAccount<'info>,
    pub authority: Signer<'info>,
    /// CHECK: SPL Token or Token-2022 (`token::require_token_program`).
    pub token_program: UncheckedAccount<'info>,
}

pub fn withdraw_handler(ctx: Context<WithdrawSubsidy>, amount: u64) -> Result<()> {
    require!(amount > 0, CalorError::ZeroAmount);
    let a = ctx.accounts;
    let config = a.config.load()?;
    let pool = a.subsidy_pool.load()?;
    require_keys_eq!(a.subsidy_vault.key(), pool.vault, CalorError::WrongVault);
    require_keys_eq!(a.calor_mint.key(), config.calor_mint, CalorError::WrongMint);
    token::require_token_program(&a.token_program)?;
    require!(
        crate::token_checks::can_receive(
            &a.treasury_token,
            &a.token_program.key(),
            &config.calor_mint,
            &config.treasury
        ),
        CalorError::WrongTreasury
    );
    let balance = crate::token::amount(&a.subsidy_vault)?;
    require!(
        amount <= pool.unreserved(balance),
        CalorError::SubsidyVaultInsufficient
    );
    let seeds: &[&[u8]] = &[SUBSIDY_POOL_SEED, &[pool.bump]];
    token::transfer_checked(
        &a.token_program,
        &a.subsidy_vault,
        &a.calor_mint,
        &a.treasury_token,
        &a.subsidy_pool.to_account_info(),
        amount,
        config.calor_decimals,
        &[seeds],
    )?;
    emit!(SubsidyVaultChanged {
        funded: 0,
        withdrawn: amount,
        vault_balance: balance - amount,
        reserved: pool.reserved,
    });
    Ok(())
}
