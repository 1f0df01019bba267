use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{ESCROW_SEED, RENTAL_SEED};
use crate::errors::CalorError;
use crate::instructions::rental_rules::{
    emit_opened, queued_rental, rental_priority, validate_open, OpenRentalArgs, Payment,
};
use crate::state::{Config, GpuModel, PaymentKind, Region, Rental, Stake, StakePool};
use crate::transfers::TokensIn;
use crate::{math, oracle};

#[derive(Accounts)]
#[instruction(args: OpenRentalArgs)]
pub struct OpenRentalCalor<'info> {
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
    #[account(address = config.calor_mint @ CalorError::WrongMint,
              mint::token_program = token_program)]
    pub calor_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = calor_mint, token::authority = renter,
              token::token_program = token_program)]
    pub renter_token: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The rental's own token account: only the rental PDA can move what is in it.
    #[account(init, payer = renter,
              seeds = [ESCROW_SEED, rental.key().as_ref()], bump,
              token::mint = calor_mint, token::authority = rental,
              token::token_program = token_program)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    /// The renter's stake, for routing priority (owner checked in `rental_priority`; a
    /// `Stake` only exists at its PDA).
    pub stake: Option<Box<Account<'info, Stake>>>,
    /// Required here (not only with `stake`): settling a Calor rental pays the stakers'
    /// share into the pool's rewards vault, so a Calor rental may only exist once staking
    /// is set up, or its settlement could never run.
    pub stake_pool: Box<Account<'info, StakePool>>,
    #[account(mut)]
    pub renter: Signer<'info>,
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<OpenRentalCalor>, args: OpenRentalArgs) -> Result<()> {
    let a = &mut *ctx.accounts;
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
        Some(&**a.stake_pool),
    )?;
    let market = math::usd_cost(args.hourly_rate_micro_usd, args.hours)?;
    let usd = math::subsidised_usd(market, a.config.params.calor_subsidy_bps)?;
    require!(
        usd >= a.config.params.min_rental_micro_usd,
        CalorError::BelowMinimumRental
    );
    let now = Clock::get()?.unix_timestamp;
    let tokens = oracle::usd_to_calor(&a.config, now, usd)?;

    let received = TokensIn {
        token_program: &a.token_program,
        mint: &a.calor_mint,
        from: &a.renter_token,
        authority: &a.renter,
        to: &mut a.escrow,
    }
    .transfer(tokens)?;
    let payment = Payment {
        kind: PaymentKind::Calor,
        escrowed: received,
        usd_paid_micro: usd,
        paid_at: now,
        escrow_bump: ctx.bumps.escrow,
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
