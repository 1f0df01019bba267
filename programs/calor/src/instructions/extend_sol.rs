use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::instructions::rental_rules::{record_extension, validate_extend, ExtendArgs};
use crate::state::{Config, PaymentKind, Rental};
use crate::{math, oracle};

/// The renter buys more hours of a running SOL rental at its rate and today's SOL price, as
/// a purchase of its own: settlement serves the earlier purchases first, each at its price.
///
/// Account proofs: `config` and `rental` by owner and discriminator; the rental's `renter`
/// signs; `price_update` as in `open_rental_sol`.
#[derive(Accounts)]
pub struct ExtendSol<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub rental: AccountLoader<'info, Rental>,
    /// CHECK: a Pyth `PriceUpdateV2`, checked as in `open_rental_sol`.
    pub price_update: UncheckedAccount<'info>,
    #[account(mut)]
    pub renter: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<ExtendSol>, args: ExtendArgs) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    let config = a.config.load()?;
    let (lamports, usd) = {
        let rental = a.rental.load()?;
        require_keys_eq!(rental.renter, a.renter.key(), CalorError::Unauthorized);
        require!(
            rental.payment() == PaymentKind::Sol,
            CalorError::WrongPaymentKind
        );
        validate_extend(&config, &rental, args.hours, now)?;
        let usd = math::usd_cost(rental.hourly_rate_micro_usd, args.hours)?;
        let lamports =
            oracle::usd_to_lamports(&a.price_update, &config.params.sol_usd_oracle, now, usd)?;
        require!(
            lamports <= args.max_payment,
            CalorError::PaymentAboveMaximum
        );
        (lamports, usd)
    };
    let rental_info = a.rental.to_account_info();
    crate::pda_accounts::transfer_lamports(&a.system_program, &a.renter, &rental_info, lamports)?;
    let key = a.rental.key();
    record_extension(
        key,
        &mut *a.rental.load_mut()?,
        args.hours,
        lamports,
        usd,
        0,
    )
}
