use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::instructions::provider_rental::require_serving_node;
use crate::instructions::rental_rules::{end_rental, served_until};
use crate::state::{Config, EndReason, Node, Rental, RentalState};

/// The node went silent: the renter ends the rental, the provider is paid only up to its
/// last heartbeat (never before the start, which counts as one) and the node is marked
/// offline.
///
/// Account proofs: `config`, `rental`, `node` by owner and discriminator; the rental's
/// `renter` signs; the node must be the rental's.
#[derive(Accounts)]
pub struct Reclaim<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub rental: AccountLoader<'info, Rental>,
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    pub renter: Signer<'info>,
}

pub fn handler(ctx: Context<Reclaim>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    let mut rental = a.rental.load_mut()?;
    let mut node = a.node.load_mut()?;
    require_keys_eq!(rental.renter, a.renter.key(), CalorError::Unauthorized);
    require_serving_node(&rental, &a.node)?;
    require!(
        rental.state() == RentalState::Running,
        CalorError::RentalNotRunning
    );
    let silent_for = now.saturating_sub(node.last_heartbeat);
    require!(
        silent_for > i64::from(a.config.load()?.params.heartbeat_timeout_secs),
        CalorError::HeartbeatFresh
    );
    let served = served_until(&rental, node.last_heartbeat);
    end_rental(
        a.rental.key(),
        &mut rental,
        Some(&mut node),
        RentalState::Completed,
        served,
        EndReason::Reclaimed,
    )
}
