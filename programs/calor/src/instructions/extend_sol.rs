use anchor_lang::prelude::*;
use anchor_lang::system_program::{transfer, Transfer};
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;

use crate::constants::{CONFIG_SEED, RENTAL_SEED, SECS_PER_HOUR};
use crate::errors::CalorError;
use crate::events::RentalExtended;
use crate::instructions::rental_rules::validate_extend;
use crate::state::{Config, PaymentKind, Rental};
use crate::{math, oracle};

/// The renter buys more hours of a running SOL rental at its rate and today's SOL price.
#[derive(Accounts)]
pub struct ExtendSol<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [RENTAL_SEED, renter.key().as_ref(), &rental.id.to_le_bytes()],
              bump = rental.bump, has_one = renter @ CalorError::Unauthorized,
              constraint = rental.payment == PaymentKind::Sol @ CalorError::WrongPaymentKind)]
    pub rental: Box<Account<'info, Rental>>,
    /// Checked like in `open_rental_sol`.
    pub price_update: Box<Account<'info, PriceUpdateV2>>,
    #[account(mut)]
    pub renter: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<ExtendSol>, hours: u32) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    validate_extend(&a.config, &a.rental, hours, now)?;
    let usd = math::usd_cost(a.rental.hourly_rate_micro_usd, hours)?;
    let lamports =
        oracle::usd_to_lamports(&a.price_update, &a.config.params.sol_usd_oracle, now, usd)?;
    transfer(
        CpiContext::new(
            a.system_program.key(),
            Transfer {
                from: a.renter.to_account_info(),
                to: a.rental.to_account_info(),
            },
        ),
        lamports,
    )?;
    record_extension(&mut ctx.accounts.rental, hours, lamports, usd)
}

pub(crate) fn record_extension(
    rental: &mut Account<Rental>,
    hours: u32,
    paid: u64,
    usd: u64,
) -> Result<()> {
    let added = i64::from(hours) * i64::from(SECS_PER_HOUR);
    rental.hours += hours; // bounded by validate_extend
    rental.escrowed = rental
        .escrowed
        .checked_add(paid)
        .ok_or(CalorError::MathOverflow)?;
    rental.usd_paid_micro = rental
        .usd_paid_micro
        .checked_add(usd)
        .ok_or(CalorError::MathOverflow)?;
    rental.ends_at = rental
        .ends_at
        .checked_add(added)
        .ok_or(CalorError::MathOverflow)?;
    emit!(RentalExtended {
        rental: rental.key(),
        added_hours: hours,
        added_escrow: paid,
        ends_at: rental.ends_at,
    });
    Ok(())
}
