use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::EarningsWithdrawn;
use crate::state::{Config, Provider};

/// Moves every lamport above the rent-exempt minimum out of a program account.
fn withdraw_excess<'info>(from: &AccountInfo<'info>, to: &AccountInfo<'info>) -> Result<u64> {
    let keep = Rent::get()?.minimum_balance(from.data_len());
    let excess = from.lamports().saturating_sub(keep);
    require!(excess > 0, CalorError::NothingToWithdraw);
    from.sub_lamports(excess)?;
    to.add_lamports(excess)?;
    emit!(EarningsWithdrawn {
        from: from.key(),
        to: to.key(),
        lamports: excess
    });
    Ok(excess)
}

/// The provider takes its accrued SOL earnings to its payout wallet.
#[derive(Accounts)]
pub struct WithdrawProviderEarnings<'info> {
    #[account(mut, has_one = authority @ CalorError::Unauthorized,
              has_one = payout @ CalorError::WrongPayee)]
    pub provider: AccountLoader<'info, Provider>,
    /// CHECK: only receives lamports; verified against the provider by `has_one`.
    #[account(mut)]
    pub payout: UncheckedAccount<'info>,
    pub authority: Signer<'info>,
}

pub fn provider_handler(ctx: Context<WithdrawProviderEarnings>) -> Result<()> {
    withdraw_excess(
        &ctx.accounts.provider.to_account_info(),
        &ctx.accounts.payout.to_account_info(),
    )?;
    Ok(())
}

/// Anyone may sweep the SOL protocol fees collected in the config PDA to the treasury.
#[derive(Accounts)]
pub struct SweepFees<'info> {
    #[account(mut, has_one = treasury @ CalorError::WrongTreasury)]
    pub config: AccountLoader<'info, Config>,
    /// CHECK: only receives lamports; verified against the config by `has_one`.
    #[account(mut)]
    pub treasury: UncheckedAccount<'info>,
}

pub fn sweep_handler(ctx: Context<SweepFees>) -> Result<()> {
    withdraw_excess(
        &ctx.accounts.config.to_account_info(),
        &ctx.accounts.treasury.to_account_info(),
    )?;
    Ok(())
}
