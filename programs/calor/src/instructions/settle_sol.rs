use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, PROVIDER_SEED, RENTAL_SEED};
use crate::errors::CalorError;
use crate::events::RentalSettled;
use crate::math;
use crate::state::{Config, PaymentKind, Provider, Rental};

/// Pays out an ended SOL rental, exactly once (the rental account is closed): the provider
/// PDA is credited for the served seconds, the config PDA collects the protocol fee, and
/// the renter gets the unused remainder plus the rental's rent. Anyone may send it.
#[derive(Accounts)]
pub struct SettleSol<'info> {
    #[account(mut, seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, close = renter,
              seeds = [RENTAL_SEED, rental.renter.as_ref(), &rental.id.to_le_bytes()],
              bump = rental.bump,
              constraint = rental.payment == PaymentKind::Sol @ CalorError::WrongPaymentKind)]
    pub rental: Box<Account<'info, Rental>>,
    /// The paid provider; `None` for rentals never claimed (nothing is owed then).
    #[account(mut, seeds = [PROVIDER_SEED, provider.authority.as_ref()], bump = provider.bump,
              constraint = rental.payee == provider.key() @ CalorError::WrongPayee)]
    pub provider: Option<Box<Account<'info, Provider>>>,
    /// CHECK: only receives lamports; verified to be the rental's renter by `address`.
    #[account(mut, address = rental.renter @ CalorError::Unauthorized)]
    pub renter: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<SettleSol>) -> Result<()> {
    let a = ctx.accounts;
    require!(a.rental.is_ended(), CalorError::SettleBeforeEnd);
    let split = math::settle(
        a.rental.escrowed,
        u64::from(a.rental.served_secs),
        a.rental.paid_secs(),
        a.rental.protocol_fee_bps,
        a.rental.burn_bps, // 0 for SOL: only Calor is burned
    )?;
    let rental_info = a.rental.to_account_info();
    if split.provider > 0 {
        let provider = a.provider.as_ref().ok_or(CalorError::WrongPayee)?;
        rental_info.sub_lamports(split.provider)?;
        provider.to_account_info().add_lamports(split.provider)?;
    }
    if split.fee > 0 {
        rental_info.sub_lamports(split.fee)?;
        a.config.to_account_info().add_lamports(split.fee)?;
    }
    // `close = renter` returns the refund and the rent together.
    emit!(RentalSettled {
        rental: a.rental.key(),
        payment: PaymentKind::Sol,
        provider_amount: split.provider,
        fee: split.fee,
        staker_rewards: 0,
        burned: 0,
        refund: split.refund,
    });
    Ok(())
}
