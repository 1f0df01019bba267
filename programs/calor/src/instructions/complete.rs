use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::instructions::provider_rental::require_serving_node;
use crate::instructions::rental_rules::{end_rental, served_until};
use crate::state::{EndReason, Node, Rental, RentalState};

/// The renter or the node's operator stops a running rental early; the provider is paid for
/// the seconds served, the rest is refunded at settlement.
///
/// Account proofs: `rental` and `node` by owner and discriminator, the node by being the
/// rental's; the signer is the rental's renter or the node's authority.
#[derive(Accounts)]
pub struct Complete<'info> {
    #[account(mut)]
    pub rental: AccountLoader<'info, Rental>,
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    pub signer: Signer<'info>,
}

pub fn handler(ctx: Context<Complete>) -> Result<()> {
    let a = ctx.accounts;
    let mut rental = a.rental.load_mut()?;
    let mut node = a.node.load_mut()?;
    require_serving_node(&rental, &a.node)?;
    let who = a.signer.key();
    require!(
        who == rental.renter || who == node.authority,
        CalorError::Unauthorized
    );
    require!(
        rental.state() == RentalState::Running,
        CalorError::RentalNotRunning
    );
    let now = Clock::get()?.unix_timestamp;
    let served = served_until(&rental, now);
    let reason = if now >= rental.ends_at {
        EndReason::Expired
    } else {
        EndReason::Completed
    };
    end_rental(
        a.rental.key(),
        &mut rental,
        Some(&mut node),
        RentalState::Completed,
        served,
        reason,
    )
}
