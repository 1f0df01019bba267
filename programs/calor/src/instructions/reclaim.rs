use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, RENTAL_SEED};
use crate::errors::CalorError;
use crate::instructions::rental_rules::{end_rental, served_until};
use crate::state::{Config, EndReason, Node, Rental, RentalState};

/// The node went silent: the renter ends the rental, the provider is paid only up to its
/// last heartbeat and the node is marked offline.
#[derive(Accounts)]
pub struct Reclaim<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [RENTAL_SEED, renter.key().as_ref(), &rental.id.to_le_bytes()],
              bump = rental.bump, has_one = renter @ CalorError::Unauthorized)]
    pub rental: Box<Account<'info, Rental>>,
    #[account(mut, constraint = rental.node == Some(node.key()) @ CalorError::WrongNode)]
    pub node: Box<Account<'info, Node>>,
    pub renter: Signer<'info>,
}

pub fn handler(ctx: Context<Reclaim>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    require!(
        a.rental.state == RentalState::Running,
        CalorError::RentalNotRunning
    );
    let silent_for = now.saturating_sub(a.node.last_heartbeat);
    require!(
        silent_for > i64::from(a.config.params.heartbeat_timeout_secs),
        CalorError::HeartbeatFresh
    );
    let served = served_until(&a.rental, a.node.last_heartbeat);
    end_rental(
        &mut a.rental,
        Some(&mut a.node),
        RentalState::Completed,
        served,
        EndReason::Reclaimed,
    )
}
