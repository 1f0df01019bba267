use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::instructions::provider_rental::require_serving_node;
use crate::instructions::rental_rules::end_rental;
use crate::state::{EndReason, Node, Rental, RentalState};

/// Anyone may end a rental whose paid time has run out; the provider is paid in full.
///
/// Account proofs: `rental` and `node` by owner and discriminator, the node by being the
/// rental's.
#[derive(Accounts)]
pub struct Expire<'info> {
    #[account(mut)]
    pub rental: AccountLoader<'info, Rental>,
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
}

pub fn handler(ctx: Context<Expire>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    let mut rental = a.rental.load_mut()?;
    require_serving_node(&rental, &a.node)?;
    require!(
        rental.state() == RentalState::Running,
        CalorError::RentalNotRunning
    );
    require!(now >= rental.ends_at, CalorError::RentalNotExpired);
    let served = rental.paid_secs();
    end_rental(
        a.rental.key(),
        &mut rental,
        Some(&mut *a.node.load_mut()?),
        RentalState::Completed,
        served,
        EndReason::Expired,
    )
}
