//! Rules shared by the rental instructions: opening checks, how purchases are recorded and
//! how a rental ends.
use anchor_lang::prelude::*;

use crate::constants::{
    MAX_FORWARDED_PORTS, MAX_RENTAL_HOURS, NO_LOCATION, SECS_PER_HOUR, SSH_PORT,
};
use crate::errors::CalorError;
use crate::events::{RentalEnded, RentalExtended, RentalOpened};
use crate::math::{self, PurchaseValue, SettleTerms};
use crate::state::{
    Config, EndReason, ForwardedPort, GpuModel, Node, NodeStatus, PaymentKind, Region, Rental,
    RentalState, Stake, StakePool, SubsidyPool,
};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct OpenRentalArgs {
    /// Any number the renter has not used for another open rental.
    pub id: u64,
    /// The bump of the rental PDA `[RENTAL_SEED, renter, id]` (the runtime checks it).
    pub bump: u8,
    /// The bump of the escrow PDA `[ESCROW_SEED, rental]` (Calor only; ignored for SOL).
    pub escrow_bump: u8,
    pub hours: u32,
    /// The market price offered for one node-hour; nodes at or below it may claim.
    pub hourly_rate_micro_usd: u64,
    /// Pin to a region, or `None` for any.
    pub region: Option<u16>,
    /// Where the renter is, so an unpinned rental goes to the nearest region first.
    pub near: Option<Location>,
    /// One public key line for root (see `ssh_key::validate`); `None` for a rental reached
    /// only through the web terminal. Only its SHA-256 is stored.
    pub ssh_public_key: Option<String>,
    /// Up to five container ports to publish besides SSH.
    pub forwarded_ports: Vec<ForwardedPort>,
    /// The most the renter agrees to pay, in lamports (SOL) or Calor base units: a moved
    /// oracle or a new posted rate can never take more than the wallet approved.
    pub max_payment: u64,
}

/// A coarse location, in whole degrees.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Location {
    pub latitude_deg: i16,
    pub longitude_deg: i16,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ExtendArgs {
    pub hours: u32,
    /// As for opening: the most the renter agrees to pay for these hours.
    pub max_payment: u64,
}

/// Everything about an open that does not depend on the payment kind.
pub fn validate_open(
    config: &Config,
    gpu_model: &GpuModel,
    region: Option<&Region>,
    args: &OpenRentalArgs,
) -> Result<()> {
    require!(!config.is_paused(), CalorError::Paused);
    require!(gpu_model.is_active(), CalorError::GpuModelInactive);
    match (args.region, region) {
        (None, None) => {}
        (Some(pin), Some(region)) if region.id == pin => {
            require!(region.is_active(), CalorError::RegionInactive)
        }
        _ => return err!(CalorError::RegionMismatch),
    }
    require!(
        (1..=MAX_RENTAL_HOURS).contains(&args.hours),
        CalorError::InvalidHours
    );
    require!(args.hourly_rate_micro_usd > 0, CalorError::ZeroRate);
    if let Some(key) = &args.ssh_public_key {
        crate::ssh_key::validate(key).map_err(|_| CalorError::InvalidSshKey)?;
    }
    if let Some(near) = args.near {
        require!(
            (-90..=90).contains(&near.latitude_deg) && (-180..=180).contains(&near.longitude_deg),
            CalorError::InvalidLocation
        );
    }
    let ports = &args.forwarded_ports;
    require!(
        ports.len() <= MAX_FORWARDED_PORTS
            && ports.iter().enumerate().all(|(i, p)| {
                p.port != 0 && p.port != SSH_PORT && ports[..i].iter().all(|q| q.port != p.port)
            }),
        CalorError::InvalidForwardedPorts
    );
    Ok(())
}

/// The market USD value of an open, which must reach the minimum (for Calor, what the renter
/// pays after the subsidy must).
pub fn open_value(config: &Config, args: &OpenRentalArgs, kind: PaymentKind) -> Result<u64> {
    let market = math::usd_cost(args.hourly_rate_micro_usd, args.hours)?;
    let paid = match kind {
        PaymentKind::Sol => market,
        PaymentKind::Calor => math::subsidised_usd(market, config.params.calor_subsidy_bps)?,
    };
    require!(
        paid >= config.params.min_rental_micro_usd,
        CalorError::BelowMinimumRental
    );
    Ok(paid)
}

/// A rental as `open_rental_*` record it: queued, with the shares in force now, so later
/// config changes cannot take more from a rental already paid for.
pub fn queued_rental(
    renter: Pubkey,
    args: &OpenRentalArgs,
    gpu_model: u16,
    params: &crate::state::ConfigParams,
    kind: PaymentKind,
    now: i64,
    priority: u8,
) -> Rental {
    let mut forwarded_ports = [0u16; MAX_FORWARDED_PORTS];
    let mut http_ports = 0u8;
    for (i, p) in args.forwarded_ports.iter().enumerate() {
        forwarded_ports[i] = p.port;
        http_ports |= u8::from(p.http) << i;
    }
    let (near_latitude_deg, near_longitude_deg) =
        args.near.map_or((NO_LOCATION, NO_LOCATION), |n| {
            (n.latitude_deg, n.longitude_deg)
        });
    let calor = kind == PaymentKind::Calor;
    Rental {
        renter,
        node: Pubkey::default(),
        payee: Pubkey::default(),
        ssh_key_hash: args.ssh_public_key.as_ref().map_or([0u8; 32], |key| {
            solana_sha256_hasher::hash(key.as_bytes()).to_bytes()
        }),
        id: args.id,
        hourly_rate_micro_usd: args.hourly_rate_micro_usd,
        escrowed: 0,
        created_at: now,
        claimed_at: 0,
        started_at: 0,
        ends_at: 0,
        purchase_amounts: [0; crate::constants::MAX_PURCHASES],
        hours: 0,
        served_secs: 0,
        gpu_model,
        region: args.region.unwrap_or(0),
        near_latitude_deg,
        near_longitude_deg,
        protocol_fee_bps: params.protocol_fee_bps,
        burn_bps: if calor { params.burn_bps } else { 0 },
        subsidy_bps: if calor { params.calor_subsidy_bps } else { 0 },
        purchase_hours: [0; crate::constants::MAX_PURCHASES],
        forwarded_ports,
        state: RentalState::Queued as u8,
        payment: kind as u8,
        priority,
        purchase_count: 0,
        http_ports,
        escrow_bump: if calor { args.escrow_bump } else { 0 },
        bump: args.bump,
        _padding: [0; 5],
    }
}

pub fn emit_opened(key: Pubkey, rental: &Rental, usd_paid_micro: u64, subsidy_reserved: u64) {
    emit!(RentalOpened {
        rental: key,
        renter: rental.renter,
        gpu_model: rental.gpu_model,
        region: rental.region_pin(),
        hours: rental.hours,
        hourly_rate_micro_usd: rental.hourly_rate_micro_usd,
        payment: rental.payment(),
        escrowed: rental.escrowed,
        usd_paid_micro,
        subsidy_reserved,
        priority: rental.priority,
    });
}

/// The routing priority a renter's stake earns: the tier of its seasoned stake (held for a
/// whole epoch). A prioritised rental holds that tier's stake until it is settled. No stake
/// account, no priority.
pub fn rental_priority(
    config: &Config,
    renter: &Pubkey,
    stake: Option<&mut Stake>,
    pool: Option<&StakePool>,
) -> Result<u8> {
    let (stake, pool) = match (stake, pool) {
        (None, _) => return Ok(0),
        (Some(stake), Some(pool)) => (stake, pool),
        (Some(_), None) => return err!(CalorError::StakeWithoutPool),
    };
    require_keys_eq!(stake.owner, *renter, CalorError::NotStakeOwner);
    let tiers = &config.params.staking.priority_tiers;
    let tier = math::priority_tier(stake.deposits.seasoned(pool.epoch), tiers);
    if tier > 0 {
        stake.priority_rentals = stake
            .priority_rentals
            .checked_add(1)
            .ok_or(CalorError::MathOverflow)?;
        stake.priority_floor = stake.priority_floor.max(tiers[usize::from(tier) - 1]);
    }
    Ok(tier)
}

/// Hours added by `extend` keep the rental within the 90-day maximum.
pub fn validate_extend(config: &Config, rental: &Rental, hours: u32, now: i64) -> Result<()> {
    require!(!config.is_paused(), CalorError::Paused);
    require!(
        rental.state() == RentalState::Running,
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

/// Records an extension bought for `amount` (after the caller moved it into escrow).
pub fn record_extension(
    key: Pubkey,
    rental: &mut Rental,
    hours: u32,
    amount: u64,
    usd_paid_micro: u64,
    subsidy_reserved: u64,
) -> Result<()> {
    rental.push_purchase(hours, amount)?;
    rental.ends_at = rental
        .ends_at
        .checked_add(i64::from(hours) * i64::from(SECS_PER_HOUR))
        .ok_or(CalorError::MathOverflow)?;
    emit!(RentalExtended {
        rental: key,
        added_hours: hours,
        added_escrow: amount,
        usd_paid_micro,
        subsidy_reserved,
        ends_at: rental.ends_at,
    });
    Ok(())
}

/// The shares a rental settles with.
pub fn settle_terms(rental: &Rental, staker_share_bps: u16) -> SettleTerms {
    SettleTerms {
        fee_bps: rental.protocol_fee_bps,
        burn_bps: rental.burn_bps,
        subsidy_bps: rental.subsidy_bps,
        staker_share_bps,
    }
}

/// Reserves in the subsidy pool what a Calor purchase of `amount` can draw (its subsidy and
/// the burn it funds), within this epoch's budget and `vault`'s unreserved balance.
pub fn reserve_in_pool(
    pool: &AccountLoader<SubsidyPool>,
    vault: &AccountInfo,
    config: &Config,
    rental: &Rental,
    amount: u64,
    now: i64,
) -> Result<u64> {
    let mut pool = pool.load_mut()?;
    require_keys_eq!(*vault.key, pool.vault, CalorError::WrongVault);
    let balance = crate::token::amount(vault)?;
    reserve_subsidy(&mut pool, balance, config, rental, amount, now)
}

fn reserve_subsidy(
    pool: &mut SubsidyPool,
    vault_balance: u64,
    config: &Config,
    rental: &Rental,
    amount: u64,
    now: i64,
) -> Result<u64> {
    let reservation = PurchaseValue::of(amount, &settle_terms(rental, 0))?.reservation()?;
    if reservation == 0 {
        return Ok(0);
    }
    let epoch_secs = i64::from(config.params.staking.epoch_secs);
    if now >= pool.budget_epoch_started_at.saturating_add(epoch_secs) {
        pool.budget_epoch_started_at = now;
        pool.budget_used = 0;
    }
    let used = pool
        .budget_used
        .checked_add(reservation)
        .ok_or(CalorError::MathOverflow)?;
    require!(
        used <= config.params.subsidy_budget_per_epoch,
        CalorError::SubsidyBudgetExhausted
    );
    require!(
        reservation <= pool.unreserved(vault_balance),
        CalorError::SubsidyVaultInsufficient
    );
    pool.budget_used = used;
    pool.reserved += reservation; // bounded by the vault balance just checked
    Ok(reservation)
}

/// Moves a rental to a final state with the seconds the provider is paid for, frees its
/// node (marking it offline if it went dark) and records why.
pub fn end_rental(
    key: Pubkey,
    rental: &mut Rental,
    node: Option<&mut Node>,
    state: RentalState,
    served_secs: u64,
    reason: EndReason,
) -> Result<()> {
    rental.set_state(state);
    rental.served_secs = u32::try_from(served_secs).map_err(|_| CalorError::MathOverflow)?;
    if let Some(node) = node {
        node.release();
        if reason == EndReason::Reclaimed {
            node.set_status(NodeStatus::Offline);
        }
    }
    emit!(RentalEnded {
        rental: key,
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

/// A prioritised rental is settled: its hold on the renter's stake ends. The stake must be
/// given for such a rental (it is the renter's: a `Stake` exists only at its owner's PDA).
pub fn release_priority(rental: &Rental, stake: Option<&mut Stake>) -> Result<()> {
    if rental.priority == 0 {
        return Ok(());
    }
    let stake = stake.ok_or(CalorError::StakeRequired)?;
    require_keys_eq!(stake.owner, rental.renter, CalorError::NotStakeOwner);
    stake.priority_rentals = stake.priority_rentals.saturating_sub(1);
    if stake.priority_rentals == 0 {
        stake.priority_floor = 0;
    }
    Ok(())
}
