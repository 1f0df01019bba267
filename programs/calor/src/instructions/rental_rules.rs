//! Rules shared by the rental instructions: opening checks and how a rental ends.
use anchor_lang::prelude::*;

use crate::constants::{MAX_RENTAL_HOURS, MAX_SSH_KEY_LEN};
use crate::errors::CalorError;
use crate::events::{RentalEnded, RentalOpened};
use crate::state::{
    Config, ConfigParams, EndReason, GpuModel, Node, PaymentKind, Region, Rental, RentalState,
    Stake, StakePool,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct OpenRentalArgs {
    /// Any number the renter has not used for another open rental.
    pub id: u64,
    pub hours: u32,
    /// The market price offered for one node-hour; nodes at or below it may claim.
    pub hourly_rate_micro_usd: u64,
    /// Pin to a region, or `None` for any.
    pub region: Option<u16>,
    pub ssh_public_key: String,
}

pub const SSH_KEY_PREFIX: &str = "ssh-ed25519 ";

pub fn validate_open(
    config: &Config,
    gpu_model: &GpuModel,
    region: Option<&Region>,
    args: &OpenRentalArgs,
) -> Result<()> {
    require!(!config.paused, CalorError::Paused);
    require!(gpu_model.active, CalorError::GpuModelInactive);
    match (args.region, region) {
        (None, None) => {}
        (Some(pin), Some(region)) if region.id == pin => {
            require!(region.active, CalorError::RegionInactive)
        }
        _ => return err!(CalorError::RegionMismatch),
    }
    require!(
        (1..=MAX_RENTAL_HOURS).contains(&args.hours),
        CalorError::InvalidHours
    );
    require!(args.hourly_rate_micro_usd > 0, CalorError::ZeroRate);
    let key = &args.ssh_public_key;
    require!(
        key.len() <= MAX_SSH_KEY_LEN
            && key.starts_with(SSH_KEY_PREFIX)
            && key.len() > SSH_KEY_PREFIX.len()
            && !key.contains(['\n', '\r', '\0']),
        CalorError::InvalidSshKey
    );
    Ok(())
}

/// What a renter put into escrow at open, and when.
pub struct Payment {
    pub kind: PaymentKind,
    /// Lamports or Calor base units that arrived in escrow.
    pub escrowed: u64,
    pub usd_paid_micro: u64,
    pub paid_at: i64,
    /// The bump of the Calor escrow token account; 0 for SOL.
    pub escrow_bump: u8,
}

/// A rental as `open_rental_*` record it: queued, with the protocol fee (and, for Calor,
/// the burn) in force now, so that later config changes cannot take more from it.
pub fn queued_rental(
    renter: Pubkey,
    gpu_model: u16,
    args: OpenRentalArgs,
    params: &ConfigParams,
    payment: Payment,
    priority: u8,
    bump: u8,
) -> Rental {
    Rental {
        renter,
        id: args.id,
        gpu_model,
        region: args.region,
        node: None,
        payee: Pubkey::default(),
        hourly_rate_micro_usd: args.hourly_rate_micro_usd,
        hours: args.hours,
        payment: payment.kind,
        escrowed: payment.escrowed,
        usd_paid_micro: payment.usd_paid_micro,
        protocol_fee_bps: params.protocol_fee_bps,
        burn_bps: match payment.kind {
            PaymentKind::Sol => 0,
            PaymentKind::Calor => params.burn_bps,
        },
        created_at: payment.paid_at,
        claimed_at: 0,
        started_at: 0,
        ends_at: 0,
        served_secs: 0,
        state: RentalState::Queued,
        priority,
        escrow_bump: payment.escrow_bump,
        bump,
        ssh_public_key: args.ssh_public_key,
    }
}

pub fn emit_opened(rental: &Account<Rental>) {
    emit!(RentalOpened {
        rental: rental.key(),
        renter: rental.renter,
        gpu_model: rental.gpu_model,
        region: rental.region,
        hours: rental.hours,
        payment: rental.payment,
        escrowed: rental.escrowed,
        usd_paid_micro: rental.usd_paid_micro,
    });
}

/// The routing priority a renter's stake earns: the tier of its stake that was held across
/// an epoch boundary. No stake account, no priority.
pub fn rental_priority(
    config: &Config,
    renter: &Pubkey,
    stake: Option<&Stake>,
    pool: Option<&StakePool>,
) -> Result<u8> {
    match (stake, pool) {
        (None, _) => Ok(0),
        (Some(stake), Some(pool)) => {
            require_keys_eq!(stake.owner, *renter, CalorError::NotStakeOwner);
            Ok(crate::math::priority_tier(
                stake.effective_active(pool.epoch),
                &config.params.staking.priority_tiers,
            ))
        }
        (Some(_), None) => err!(CalorError::StakeWithoutPool),
    }
}

/// Hours added by `extend` keep the rental within the 90-day maximum.
pub fn validate_extend(config: &Config, rental: &Rental, hours: u32, now: i64) -> Result<()> {
    require!(!config.paused, CalorError::Paused);
    require!(
        rental.state == RentalState::Running,
        CalorError::RentalNotRunning
    );
    require!(now < rental.ends_at, CalorError::RentalTimeOver);
    let total = rental
        .hours
        .checked_add(hours)
        .ok_or(CalorError::InvalidHours)?;
    require!(
        hours > 0 && total <= MAX_RENTAL_HOURS,
        CalorError::InvalidHours
    );
    Ok(())
}

/// Moves a rental to a final state with the seconds the provider is paid for, frees its
/// node (marking it offline if it went dark) and records why.
pub fn end_rental(
    rental: &mut Account<Rental>,
    node: Option<&mut Node>,
    state: RentalState,
    served_secs: u64,
    reason: EndReason,
) -> Result<()> {
    rental.state = state;
    rental.served_secs = u32::try_from(served_secs).map_err(|_| CalorError::MathOverflow)?;
    if let Some(node) = node {
        node.release();
        if reason == EndReason::Reclaimed {
            node.status = crate::state::NodeStatus::Offline;
        }
    }
    emit!(RentalEnded {
        rental: rental.key(),
        reason,
        state,
        served_secs: rental.served_secs,
    });
    Ok(())
}

/// Seconds served between `started_at` and `until` (clamped to the paid time).
pub fn served_until(rental: &Rental, until: i64) -> u64 {
    let until = until.min(rental.ends_at);
    u64::try_from(until.saturating_sub(rental.started_at)).unwrap_or(0)
}
