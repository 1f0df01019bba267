use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::RentalClaimed;
use crate::instructions::provider_rental::ProviderRental;
use crate::state::{NodeStatus, PaymentKind, RentalState};

impl ProviderRental<'_> {
    pub fn validate_claim(&self, now: i64) -> Result<()> {
        let (config, node, rental) = (&self.config, &self.node, &self.rental);
        require!(!config.paused, CalorError::Paused);
        require!(self.provider.approved, CalorError::ProviderNotApproved);
        require!(
            rental.state == RentalState::Queued,
            CalorError::RentalNotQueued
        );
        require!(node.status == NodeStatus::Idle, CalorError::NodeNotIdle);
        require!(
            now.saturating_sub(node.last_heartbeat)
                <= i64::from(config.params.heartbeat_timeout_secs),
            CalorError::NodeHeartbeatStale
        );
        require!(
            node.gpu_model == rental.gpu_model,
            CalorError::WrongGpuModel
        );
        if let Some(pin) = rental.region {
            require!(node.region == pin, CalorError::WrongRegion);
        }
        require!(
            node.hourly_rate_micro_usd <= rental.hourly_rate_micro_usd,
            CalorError::NodeRateAboveOffer
        );
        Ok(())
    }
}

/// A provider takes a queued rental for one of its idle nodes: queued → provisioning.
pub fn handler(ctx: Context<ProviderRental>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.validate_claim(now)?;
    let a = ctx.accounts;
    let node_key = a.node.key();
    a.node.status = NodeStatus::Busy;
    a.node.current_rental = Some(a.rental.key());
    let rental = &mut a.rental;
    rental.state = RentalState::Provisioning;
    rental.node = Some(node_key);
    rental.claimed_at = now;
    // SOL earnings accrue in the provider PDA (which can always receive lamports); Calor
    // goes to a token account of the provider's payout wallet.
    rental.payee = match rental.payment {
        PaymentKind::Sol => a.provider.key(),
        PaymentKind::Calor => a.provider.payout,
    };
    emit!(RentalClaimed {
        rental: rental.key(),
        node: node_key,
        provider: a.provider.key(),
    });
    Ok(())
}
