use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::RentalStarted;
use crate::instructions::provider_rental::ProviderRental;
use crate::state::RentalState;

/// The instance answers: provisioning → running. Paid time starts now.
pub fn handler(ctx: Context<ProviderRental>) -> Result<()> {
    let a = ctx.accounts;
    require!(!a.config.paused, CalorError::Paused);
    a.require_serving_node()?;
    require!(
        a.rental.state == RentalState::Provisioning,
        CalorError::RentalNotProvisioning
    );
    let now = Clock::get()?.unix_timestamp;
    let paid = i64::try_from(a.rental.paid_secs()).map_err(|_| CalorError::MathOverflow)?;
    let rental = &mut a.rental;
    rental.state = RentalState::Running;
    rental.started_at = now;
    rental.ends_at = now.checked_add(paid).ok_or(CalorError::MathOverflow)?;
    emit!(RentalStarted {
        rental: rental.key(),
        node: a.node.key(),
        started_at: now,
        ends_at: rental.ends_at,
    });
    Ok(())
}
