use anchor_lang::prelude::*;
use bytemuck::{Pod, Zeroable};

use crate::constants::{
    BPS_DENOMINATOR, MAX_CALOR_SUBSIDY_BPS, MAX_DURATION_SECS, MAX_PERIOD_SECS, PRIORITY_TIERS,
};
use crate::errors::CalorError;

/// The protocol's singleton settings. PDA: `[CONFIG_SEED]`.
///
/// Zero-copy: every rental instruction reads it, and a Borsh decode of all its settings cost
/// more than the handlers themselves. The layout is `repr(C)` without implicit padding, so
/// its bytes are also its Borsh encoding (clients decode it either way).
#[account(zero_copy)]
#[derive(Debug)]
pub struct Config {
    /// May change settings, manage the catalog, approve providers and veto high-impact
    /// proposals during their timelock.
    pub authority: Pubkey,
    /// Set by the authority, accepted by the new authority (two-step transfer); the default
    /// address when none is pending.
    pub pending_authority: Pubkey,
    /// Receives SOL protocol fees; withdraws the unreserved Calor of the subsidy vault.
    pub treasury: Pubkey,
    pub calor_mint: Pubkey,
    /// Calor/USD rate posted by the authority; checked against `params.calor_price`.
    pub calor_price_micro_usd: u64,
    pub calor_price_posted_at: i64,
    pub params: ConfigParams,
    pub calor_decimals: u8,
    /// 0 or 1.
    pub paused: u8,
    pub bump: u8,
    pub _padding: [u8; 5],
}

impl Config {
    pub fn is_paused(&self) -> bool {
        self.paused != 0
    }

    pub fn pending_authority(&self) -> Option<Pubkey> {
        (self.pending_authority != Pubkey::default()).then_some(self.pending_authority)
    }
}

/// Everything about the config that the authority may set, validated as one unit by
/// `initialize` and by later updates. `calor_price` and `subsidy_budget_per_epoch` are
/// governed: after `initialize` only a passed proposal changes them.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable,
)]
#[repr(C)]
pub struct ConfigParams {
    /// Smallest USD value a rental may have, in micro-USD (5_000_000 = $5).
    pub min_rental_micro_usd: u64,
    /// Calor (base units) the subsidy vault may commit to new rentals per epoch: subsidies
    /// plus the burns they fund.
    pub subsidy_budget_per_epoch: u64,
    pub staking: StakingParams,
    pub calor_price: CalorPriceParams,
    pub sol_usd_oracle: OracleParams,
    /// How long a rental may wait in `provisioning` before the renter may cancel it.
    pub queue_timeout_secs: u32,
    /// A node whose last heartbeat is older than this may have its rentals reclaimed.
    pub heartbeat_timeout_secs: u32,
    /// Share of each settled payment (at market value) that goes to the protocol.
    pub protocol_fee_bps: u16,
    /// Share of the market value of the Calor time served that is burned, paid by the
    /// subsidy vault (never by the provider).
    pub burn_bps: u16,
    /// Discount on the market rate when paying in Calor (at most 8,500 = 85%), paid by the
    /// subsidy vault.
    pub calor_subsidy_bps: u16,
    pub _padding: [u8; 2],
}

/// Staking, rewards and governance.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable,
)]
#[repr(C)]
pub struct StakingParams {
    /// Seasoned stake (base units) needed for routing priority 1, 2 and 3.
    pub priority_tiers: [u64; PRIORITY_TIERS],
    /// Seasoned stake (base units) a proposer must hold.
    pub min_stake_to_propose: u64,
    /// Rewards are distributed once per epoch; the subsidy budget renews each epoch.
    pub epoch_secs: u32,
    pub voting_period_secs: u32,
    /// Wait between the end of the vote and the execution of a high-impact proposal, during
    /// which the config authority may veto it.
    pub timelock_secs: u32,
    /// A passed proposal must be executed within this time once it may be, or it expires.
    pub execution_window_secs: u32,
    /// Share of each Calor protocol fee that goes to stakers (the rest to the treasury's
    /// share of the subsidy vault).
    pub staker_fee_share_bps: u16,
    /// Votes cast, as a share of all stake at the proposal, for a proposal to count.
    pub quorum_bps: u16,
    /// The same for high-impact proposals (fees, authority, Calor price bounds, subsidy).
    pub high_impact_quorum_bps: u16,
    pub _padding: [u8; 2],
}

/// Pyth `PriceUpdateV2` settings for SOL/USD.
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable,
)]
#[repr(C)]
pub struct OracleParams {
    /// Pyth feed id (not an account address): pinned so no other feed can be passed in.
    pub feed_id: [u8; 32],
    pub max_age_secs: u32,
    /// Widest accepted confidence interval, relative to the price.
    pub max_conf_bps: u16,
    pub _padding: [u8; 2],
}

/// Bounds for the authority-posted Calor/USD rate (governed).
#[derive(
    AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq, Pod, Zeroable,
)]
#[repr(C)]
pub struct CalorPriceParams {
    /// Lowest and highest accepted rate for one whole Calor token, in micro-USD.
    pub min_micro_usd: u64,
    pub max_micro_usd: u64,
    pub max_age_secs: u32,
    /// Largest move of a posted rate per hour since the previous post, relative to it.
    pub max_move_bps_per_hour: u16,
    pub _padding: [u8; 2],
}

impl ConfigParams {
    pub fn validate(&self) -> Result<()> {
        for bps in [self.protocol_fee_bps, self.burn_bps, self.calor_subsidy_bps] {
            require!(bps <= BPS_DENOMINATOR, CalorError::BpsOutOfRange);
        }
        require!(
            self.calor_subsidy_bps <= MAX_CALOR_SUBSIDY_BPS,
            CalorError::SubsidyTooHigh
        );
        require!(self.min_rental_micro_usd > 0, CalorError::ZeroMinimumRental);
        self.sol_usd_oracle.validate()?;
        self.calor_price.validate()?;
        for secs in [self.queue_timeout_secs, self.heartbeat_timeout_secs] {
            require!(
                (1..=MAX_DURATION_SECS).contains(&secs),
                CalorError::InvalidDuration
            );
        }
        self.staking.validate()
    }

    /// Whether `other` differs only in settings the config authority may change on its own.
    pub fn same_governed_settings(&self, other: &ConfigParams) -> bool {
        self.calor_price == other.calor_price
            && self.subsidy_budget_per_epoch == other.subsidy_budget_per_epoch
    }
}

impl StakingParams {
    pub fn validate(&self) -> Result<()> {
        for secs in [self.epoch_secs, self.voting_period_secs] {
            require!(
                (1..=MAX_PERIOD_SECS).contains(&secs),
                CalorError::InvalidPeriod
            );
        }
        require!(
            self.timelock_secs <= MAX_PERIOD_SECS
                && (1..=MAX_PERIOD_SECS).contains(&self.execution_window_secs),
            CalorError::InvalidPeriod
        );
        require!(
            self.staker_fee_share_bps <= BPS_DENOMINATOR,
            CalorError::BpsOutOfRange
        );
        require!(
            self.priority_tiers[0] > 0 && self.priority_tiers.windows(2).all(|w| w[0] < w[1]),
            CalorError::InvalidPriorityTiers
        );
        require!(
            (1..=BPS_DENOMINATOR).contains(&self.quorum_bps)
                && (self.quorum_bps..=BPS_DENOMINATOR).contains(&self.high_impact_quorum_bps),
            CalorError::InvalidQuorum
        );
        Ok(())
    }
}

impl OracleParams {
    pub fn validate(&self) -> Result<()> {
        require!(self.feed_id != [0u8; 32], CalorError::InvalidFeedId);
        require!(
            (1..=MAX_DURATION_SECS).contains(&self.max_age_secs),
            CalorError::InvalidDuration
        );
        require!(
            self.max_conf_bps <= BPS_DENOMINATOR,
            CalorError::BpsOutOfRange
        );
        Ok(())
    }
}

impl CalorPriceParams {
    pub fn validate(&self) -> Result<()> {
        require!(
            (1..=MAX_DURATION_SECS).contains(&self.max_age_secs),
            CalorError::InvalidDuration
        );
        require!(
            self.min_micro_usd > 0 && self.min_micro_usd <= self.max_micro_usd,
            CalorError::InvalidPriceBounds
        );
        require!(
            (1..=BPS_DENOMINATOR).contains(&self.max_move_bps_per_hour),
            CalorError::InvalidPriceBounds
        );
        Ok(())
    }
}
