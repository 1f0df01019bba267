use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::instructions::rental_rules::{
    record_extension, reserve_in_pool, validate_extend, ExtendArgs,
};
use crate::instructions::settle_calor::require_escrow;
use crate::state::{Config, PaymentKind, Rental, SubsidyPool};
use crate::{math, oracle, token};

/// The renter buys more hours of a running Calor rental at its subsidised rate and today's
/// Calor rate, as a purchase of its own; the subsidy vault reserves its share as at open.
///
/// Account proofs: `config`, `rental`, `subsidy_pool` by owner and discriminator; the
/// rental's `renter` signs; `escrow` by its PDA; `calor_mint` and `subsidy_vault` by the
/// addresses the config and the pool hold; `renter_token` by the token program.
#[derive(Accounts)]
pub struct ExtendCalor<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub rental: AccountLoader<'info, Rental>,
    /// CHECK: compared with `config.calor_mint`.
    pub calor_mint: UncheckedAccount<'info>,
    /// CHECK: a `calor_mint` account (checked in the handler) the renter owns (checked by the
    /// token program).
    #[account(mut)]
    pub renter_token: UncheckedAccount<'info>,
    /// CHECK: the rental's escrow, checked against its PDA in the handler.
    #[account(mut)]
    pub escrow: UncheckedAccount<'info>,
    #[account(mut)]
    pub subsidy_pool: AccountLoader<'info, SubsidyPool>,
    /// CHECK: compared with `subsidy_pool.vault`.
    pub subsidy_vault: UncheckedAccount<'info>,
    pub renter: Signer<'info>,
    /// CHECK: SPL Token or Token-2022 (`token::require_token_program`).
    pub token_program: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<ExtendCalor>, args: ExtendArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    let config = a.config.load()?;
    crate::token::require_calor_account(&config, &a.calor_mint, &a.renter_token, &a.token_program)?;
    let key = a.rental.key();
    let mut rental = a.rental.load_mut()?;
    require_keys_eq!(rental.renter, a.renter.key(), CalorError::Unauthorized);
    require!(
        rental.payment() == PaymentKind::Calor,
        CalorError::WrongPaymentKind
    );
    require_escrow(&key, rental.escrow_bump, &a.escrow.key())?;
    validate_extend(&config, &rental, args.hours, now)?;
    let market = math::usd_cost(rental.hourly_rate_micro_usd, args.hours)?;
    let usd = math::subsidised_usd(market, rental.subsidy_bps)?;
    let tokens = oracle::usd_to_calor(&config, now, usd)?;
    require!(tokens <= args.max_payment, CalorError::PaymentAboveMaximum);
    let reserved = reserve_in_pool(
        &a.subsidy_pool,
        &a.subsidy_vault,
        &config,
        &rental,
        tokens,
        now,
    )?;
    token::transfer_checked(
        &a.token_program,
        &a.renter_token,
        &a.calor_mint,
        &a.escrow,
        &a.renter,
        tokens,
        config.calor_decimals,
        &[],
    )?;
    record_extension(key, &mut rental, args.hours, tokens, usd, reserved)
}
