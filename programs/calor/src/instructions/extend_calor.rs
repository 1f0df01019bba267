use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::{CONFIG_SEED, ESCROW_SEED, RENTAL_SEED};
use crate::errors::CalorError;
use crate::instructions::extend_sol::record_extension;
use crate::instructions::rental_rules::validate_extend;
use crate::state::{Config, PaymentKind, Rental};
use crate::transfers::TokensIn;
use crate::{math, oracle};

/// The renter buys more hours of a running Calor rental at its subsidised rate.
#[derive(Accounts)]
pub struct ExtendCalor<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [RENTAL_SEED, renter.key().as_ref(), &rental.id.to_le_bytes()],
              bump = rental.bump, has_one = renter @ CalorError::Unauthorized,
              constraint = rental.payment == PaymentKind::Calor @ CalorError::WrongPaymentKind)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(address = config.calor_mint @ CalorError::WrongMint)]
    pub calor_mint: Box<InterfaceAccount<'info, Mint>>,
    #[account(mut, token::mint = calor_mint, token::authority = renter,
              token::token_program = token_program)]
    pub renter_token: Box<InterfaceAccount<'info, TokenAccount>>,
    #[account(mut, seeds = [ESCROW_SEED, rental.key().as_ref()], bump = rental.escrow_bump)]
    pub escrow: Box<InterfaceAccount<'info, TokenAccount>>,
    pub renter: Signer<'info>,
    pub token_program: Interface<'info, TokenInterface>,
}

pub fn handler(ctx: Context<ExtendCalor>, hours: u32) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = &mut *ctx.accounts;
    validate_extend(&a.config, &a.rental, hours, now)?;
    let market = math::usd_cost(a.rental.hourly_rate_micro_usd, hours)?;
    let usd = math::subsidised_usd(market, a.config.params.calor_subsidy_bps)?;
    let tokens = oracle::usd_to_calor(&a.config, now, usd)?;
    let received = TokensIn {
        token_program: &a.token_program,
        mint: &a.calor_mint,
        from: &a.renter_token,
        authority: &a.renter,
        to: &mut a.escrow,
    }
    .transfer(tokens)?;
    record_extension(&mut ctx.accounts.rental, hours, received, usd)
}
