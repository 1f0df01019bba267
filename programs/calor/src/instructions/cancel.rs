use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::instructions::provider_rental::require_serving_node;
use crate::instructions::rental_rules::end_rental;
use crate::state::{Config, EndReason, Node, Rental, RentalState};

/// The renter withdraws a rental that has not started: at any time while queued, or while
/// provisioning once the queue timeout has passed since the claim. Nothing is paid.
///
/// Account proofs: `config`, `rental`, `node` by owner and discriminator; the rental's
/// `renter` signs; the node must be the rental's.
#[derive(Accounts)]
pub struct Cancel<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut)]
    pub rental: AccountLoader<'info, Rental>,
    /// The claiming node; `None` while the rental is still queued.
    #[account(mut)]
    pub node: Option<AccountLoader<'info, Node>>,
    pub renter: Signer<'info>,
}

pub fn handler(ctx: Context<Cancel>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    let mut rental = a.rental.load_mut()?;
    require_keys_eq!(rental.renter, a.renter.key(), CalorError::Unauthorized);
    let mut node = match &a.node {
        Some(node) => {
            require_serving_node(&rental, node)?;
            Some(node.load_mut()?)
        }
        None => None,
    };
    match rental.state() {
        RentalState::Queued => {}
        RentalState::Provisioning => {
            require!(node.is_some(), CalorError::WrongNode);
            let timeout = i64::from(a.config.load()?.params.queue_timeout_secs);
            require!(
                now >= rental.claimed_at.saturating_add(timeout),
                CalorError::QueueTimeoutNotReached
            );
        }
        RentalState::Running => return err!(CalorError::RentalAlreadyStarted),
        _ => return err!(CalorError::RentalNotQueued),
    }
    end_rental(
        a.rental.key(),
        &mut rental,
        node.as_deref_mut(),
        RentalState::Cancelled,
        0,
        EndReason::Cancelled,
    )
}
