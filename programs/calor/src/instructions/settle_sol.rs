use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::RentalSettled;
use crate::instructions::rental_rules::{release_priority, settle_terms};
use crate::math;
use crate::state::{Config, PaymentKind, Rental, Stake};

/// Pays out an ended SOL rental, exactly once (the rental account is closed): the provider
/// PDA is credited for the served seconds, the config PDA collects the protocol fee, and
/// the renter gets the unused remainder plus the rental's rent. Anyone may send it.
///
/// Account proofs: `config` and `rental` by owner and discriminator; `provider` and `renter`
/// only receive lamports and are compared with the rental's `payee` and `renter`; `stake`
/// (for a prioritised rental) must be the renter's.
#[derive(Accounts)]
pub struct SettleSol<'info> {
    /// Collects the fee (swept to the treasury by `sweep_fees`).
    #[account(mut)]
    pub config: AccountLoader<'info, Config>,
    #[account(mut, close = renter)]
    pub rental: AccountLoader<'info, Rental>,
    /// CHECK: receives lamports only; must be the rental's `payee` (the claiming provider's
    /// PDA). `None` for rentals never claimed (nothing is owed then).
    #[account(mut)]
    pub provider: Option<UncheckedAccount<'info>>,
    /// CHECK: receives lamports only; must be the rental's `renter`.
    #[account(mut)]
    pub renter: UncheckedAccount<'info>,
    /// The renter's stake, for a rental opened with stake priority.
    #[account(mut)]
    pub stake: Option<Box<Account<'info, Stake>>>,
}

pub fn handler(ctx: Context<SettleSol>) -> Result<()> {
    let a = ctx.accounts;
    let rental = a.rental.load()?;
    require!(
        rental.payment() == PaymentKind::Sol,
        CalorError::WrongPaymentKind
    );
    require!(rental.is_ended(), CalorError::SettleBeforeEnd);
    require_keys_eq!(a.renter.key(), rental.renter, CalorError::Unauthorized);
    let split = math::settle(
        rental.purchases(),
        u64::from(rental.served_secs),
        &settle_terms(&rental, 0),
    )?;
    release_priority(&rental, a.stake.as_deref_mut().map(|s| &mut **s))?;
    let rental_info = a.rental.to_account_info();
    if split.provider > 0 {
        let provider = a.provider.as_ref().ok_or(CalorError::WrongPayee)?;
        require_keys_eq!(provider.key(), rental.payee, CalorError::WrongPayee);
        rental_info.sub_lamports(split.provider)?;
        provider.add_lamports(split.provider)?;
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
        refund_held: false,
        subsidy_drawn: 0,
    });
    Ok(())
}
