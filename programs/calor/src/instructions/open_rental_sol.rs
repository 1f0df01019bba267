use anchor_lang::prelude::*;
use anchor_lang::system_program::{transfer, Transfer};
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;

use crate::constants::RENTAL_SEED;
use crate::errors::CalorError;
use crate::instructions::rental_rules::{
    emit_opened, queued_rental, rental_priority, validate_open, OpenRentalArgs, Payment,
};
use crate::state::{Config, GpuModel, PaymentKind, Region, Rental, Stake, StakePool};
use crate::{math, oracle};

#[derive(Accounts)]
#[instruction(args: OpenRentalArgs)]
pub struct OpenRentalSol<'info> {
    // Config, GpuModel and Region accounts are only ever created at their PDAs (by
    // `initialize` and the catalog instructions), so `Account`'s owner and discriminator
    // checks already prove what they are; re-deriving the addresses here would cost
    // 1,500 CU each on the busiest instruction.
    pub config: Box<Account<'info, Config>>,
    pub gpu_model: Box<Account<'info, GpuModel>>,
    /// Present exactly when the rental is pinned to a region (checked in `validate_open`).
    pub region: Option<Box<Account<'info, Region>>>,
    #[account(init, payer = renter, space = 8 + Rental::INIT_SPACE,
              seeds = [RENTAL_SEED, renter.key().as_ref(), &args.id.to_le_bytes()], bump)]
    pub rental: Box<Account<'info, Rental>>,
    /// Owner (the Pyth receiver) and discriminator checked by `Account`; feed id,
    /// verification, age and confidence in `oracle::usd_to_lamports`.
    pub price_update: Box<Account<'info, PriceUpdateV2>>,
    /// The renter's stake, for routing priority (owner checked in `rental_priority`; a
    /// `Stake` only exists at its PDA).
    pub stake: Option<Box<Account<'info, Stake>>>,
    /// Needed with `stake`, for the current epoch.
    pub stake_pool: Option<Box<Account<'info, StakePool>>>,
    #[account(mut)]
    pub renter: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<OpenRentalSol>, args: OpenRentalArgs) -> Result<()> {
    let a = &ctx.accounts;
    validate_open(
        &a.config,
        &a.gpu_model,
        a.region.as_deref().map(|r| &**r),
        &args,
    )?;
    let priority = rental_priority(
        &a.config,
        &a.renter.key(),
        a.stake.as_deref().map(|s| &**s),
        a.stake_pool.as_deref().map(|p| &**p),
    )?;
    let usd = math::usd_cost(args.hourly_rate_micro_usd, args.hours)?;
    require!(
        usd >= a.config.params.min_rental_micro_usd,
        CalorError::BelowMinimumRental
    );
    let now = Clock::get()?.unix_timestamp;
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
    let payment = Payment {
        kind: PaymentKind::Sol,
        escrowed: lamports,
        usd_paid_micro: usd,
        paid_at: now,
        escrow_bump: 0,
    };
    let rental = queued_rental(
        ctx.accounts.renter.key(),
        ctx.accounts.gpu_model.id,
        args,
        &ctx.accounts.config.params,
        payment,
        priority,
        ctx.bumps.rental,
    );
    ctx.accounts.rental.set_inner(rental);
    emit_opened(&ctx.accounts.rental);
    Ok(())
}
