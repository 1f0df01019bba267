use anchor_lang::prelude::*;

use crate::constants::{
    BPS_DENOMINATOR, MAX_CALOR_SUBSIDY_BPS, MAX_DURATION_SECS, MAX_PERIOD_SECS, PRIORITY_TIERS,
};
use crate::errors::CalorError;

/// The protocol's singleton settings. PDA: `[CONFIG_SEED]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Config {
    /// May change settings, manage the catalog and approve providers.
    pub authority: Pubkey,
    /// Set by the authority, accepted by the new authority (two-step transfer).
    pub pending_authority: Option<Pubkey>,
    /// Receives protocol fees (lamports directly; Calor into its token account for `calor_mint`).
    pub treasury: Pubkey,
    pub calor_mint: Pubkey,
    pub calor_decimals: u8,
    pub params: ConfigParams,
    /// Calor/USD rate posted by the authority; checked against `params.calor_price`.
    pub calor_price_micro_usd: u64,
    pub calor_price_posted_at: i64,
    pub paused: bool,
    pub bump: u8,
}

/// Everything about the config that the authority may set, validated as one unit by
/// `initialize` and by later updates.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct ConfigParams {
    /// Share of each settled payment that goes to the treasury.
    pub protocol_fee_bps: u16,
    /// Share of each settled Calor payment that is burned.
    pub burn_bps: u16,
    /// Discount on the market rate when paying in Calor (at most 8,500 = 85%).
    pub calor_subsidy_bps: u16,
    /// Smallest USD value a rental may have, in micro-USD (5_000_000 = $5).
    pub min_rental_micro_usd: u64,
    pub sol_usd_oracle: OracleParams,
    pub calor_price: CalorPriceParams,
    /// How long a rental may wait in `provisioning` before the renter may cancel it.
    pub queue_timeout_secs: u32,
    /// A node whose last heartbeat is older than this may have its rentals reclaimed.
    pub heartbeat_timeout_secs: u32,
    pub staking: StakingParams,
}

/// Staking, rewards and governance.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct StakingParams {
    /// Rewards are distributed once per epoch.
    pub epoch_secs: u32,
    /// Share of each Calor protocol fee that goes to stakers (the rest to the treasury).
    pub staker_fee_share_bps: u16,
    /// Active stake (base units) needed for routing priority 1, 2 and 3.
    pub priority_tiers: [u64; PRIORITY_TIERS],
    /// Votes cast, as a share of all stake at the snapshot, for a proposal to count.
    pub quorum_bps: u16,
    pub voting_period_secs: u32,
    /// Stake (base units) a proposer must hold.
    pub min_stake_to_propose: u64,
}

/// Pyth `PriceUpdateV2` settings for SOL/USD.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct OracleParams {
    /// Pyth feed id (not an account address): pinned so no other feed can be passed in.
    pub feed_id: [u8; 32],
    pub max_age_secs: u32,
    /// Widest accepted confidence interval, relative to the price.
    pub max_conf_bps: u16,
}

/// Bounds for the authority-posted Calor/USD rate.
#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Debug, PartialEq, Eq)]
pub struct CalorPriceParams {
    pub max_age_secs: u32,
    /// Lowest and highest accepted rate for one whole Calor token, in micro-USD.
    pub min_micro_usd: u64,
    pub max_micro_usd: u64,
}

impl ConfigParams {
    pub fn validate(&self) -> Result<()> {
        for bps in [self.protocol_fee_bps, self.burn_bps, self.calor_subsidy_bps] {
            require!(bps <= BPS_DENOMINATOR, CalorError::BpsOutOfRange);
        }
        require!(
            u32::from(self.protocol_fee_bps) + u32::from(self.burn_bps)
                <= u32::from(BPS_DENOMINATOR),
            CalorError::FeeAndBurnTooHigh
        );
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
            self.staker_fee_share_bps <= BPS_DENOMINATOR,
            CalorError::BpsOutOfRange
        );
        require!(
            self.priority_tiers[0] > 0 && self.priority_tiers.windows(2).all(|w| w[0] < w[1]),
            CalorError::InvalidPriorityTiers
        );
        require!(
            (1..=BPS_DENOMINATOR).contains(&self.quorum_bps),
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
        Ok(())
    }
}
