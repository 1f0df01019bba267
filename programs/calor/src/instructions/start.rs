use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::RentalStarted;
use crate::instructions::provider_rental::{
    require_operator, require_serving_node, ProviderRental,
};
use crate::state::RentalState;

/// The instance answers: provisioning → running. Paid time starts now, and the start counts
/// as the node's heartbeat (a heartbeat from before it cannot make the node look silent).
pub fn handler(ctx: Context<ProviderRental>) -> Result<()> {
    let a = ctx.accounts;
    require!(!a.config.load()?.is_paused(), CalorError::Paused);
    let mut node = a.node.load_mut()?;
    let mut rental = a.rental.load_mut()?;
    require_operator(&node, &a.authority)?;
    require_serving_node(&rental, &a.node)?;
    require!(
        rental.state() == RentalState::Provisioning,
        CalorError::RentalNotProvisioning
    );
    let now = Clock::get()?.unix_timestamp;
    let paid = i64::try_from(rental.paid_secs()).map_err(|_| CalorError::MathOverflow)?;
    rental.set_state(RentalState::Running);
    rental.started_at = now;
    rental.ends_at = now.checked_add(paid).ok_or(CalorError::MathOverflow)?;
    node.last_heartbeat = now;
    emit!(RentalStarted {
        rental: a.rental.key(),
        node: a.node.key(),
        started_at: now,
        ends_at: rental.ends_at,
    });
    Ok(())
}
