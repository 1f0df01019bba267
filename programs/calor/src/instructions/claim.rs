use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::RentalClaimed;
use crate::instructions::provider_rental::{require_operator, ClaimRental};
use crate::state::{Config, Node, NodeStatus, PaymentKind, Provider, Rental, RentalState};

fn validate(
    config: &Config,
    provider: &Provider,
    node: &Node,
    rental: &Rental,
    now: i64,
) -> Result<()> {
    require!(!config.is_paused(), CalorError::Paused);
    require!(provider.is_approved(), CalorError::ProviderNotApproved);
    require!(
        rental.state() == RentalState::Queued,
        CalorError::RentalNotQueued
    );
    require!(node.status() == NodeStatus::Idle, CalorError::NodeNotIdle);
    node.require_live(now, config.params.heartbeat_timeout_secs)?;
    require!(
        node.gpu_model == rental.gpu_model,
        CalorError::WrongGpuModel
    );
    if let Some(pin) = rental.region_pin() {
        require!(node.region == pin, CalorError::WrongRegion);
    }
    require!(
        node.hourly_rate_micro_usd <= rental.hourly_rate_micro_usd,
        CalorError::NodeRateAboveOffer
    );
    Ok(())
}

/// A provider takes a queued rental for one of its idle nodes: queued → provisioning. The
/// claim counts as the node's heartbeat.
pub fn handler(ctx: Context<ClaimRental>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let a = ctx.accounts;
    let config = a.config.load()?;
    let provider = a.provider.load()?;
    let mut node = a.node.load_mut()?;
    let mut rental = a.rental.load_mut()?;
    require_operator(&node, &a.authority)?;
    require_keys_eq!(node.provider, a.provider.key(), CalorError::WrongNode);
    validate(&config, &provider, &node, &rental, now)?;
    node.set_status(NodeStatus::Busy);
    node.current_rental = a.rental.key();
    node.last_heartbeat = now;
    rental.set_state(RentalState::Provisioning);
    rental.node = a.node.key();
    rental.claimed_at = now;
    // SOL earnings accrue in the provider PDA (which can always receive lamports); Calor
    // goes to a token account of the provider's payout wallet.
    rental.payee = match rental.payment() {
        PaymentKind::Sol => a.provider.key(),
        PaymentKind::Calor => provider.payout,
    };
    emit!(RentalClaimed {
        rental: a.rental.key(),
        node: a.node.key(),
        provider: a.provider.key(),
    });
    Ok(())
}
