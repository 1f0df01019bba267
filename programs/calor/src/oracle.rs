//! Prices: Pyth `PriceUpdateV2` for SOL/USD and the authority-posted Calor/USD rate.
use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

use crate::errors::CalorError;
use crate::math;
use crate::state::{Config, OracleParams};

/// Lamports worth `usd_micro` at the SOL/USD price in `update`, after checking that it is
/// the pinned feed, fully verified, fresh, and that its confidence is narrow enough. The
/// account's owner (the Pyth receiver) and discriminator are checked by `Account<PriceUpdateV2>`.
pub fn usd_to_lamports(
    update: &PriceUpdateV2,
    params: &OracleParams,
    now: i64,
    usd_micro: u64,
) -> Result<u64> {
    let msg = &update.price_message;
    require!(msg.feed_id == params.feed_id, CalorError::WrongPriceFeed);
    require!(
        matches!(update.verification_level, VerificationLevel::Full),
        CalorError::PriceNotVerified
    );
    let age = now.saturating_sub(msg.publish_time);
    require!(
        age <= i64::from(params.max_age_secs),
        CalorError::StalePrice
    );
    require!(msg.price > 0, CalorError::InvalidOraclePrice);
    require!(
        math::confidence_within(msg.price, msg.conf, params.max_conf_bps),
        CalorError::PriceConfidenceTooWide
    );
    Ok(math::usd_to_lamports(
        usd_micro,
        msg.price,
        msg.conf,
        msg.exponent,
    )?)
}

/// Calor base units worth `usd_micro` at the posted Calor/USD rate, if it is fresh.
pub fn usd_to_calor(config: &Config, now: i64, usd_micro: u64) -> Result<u64> {
    let max_age = i64::from(config.params.calor_price.max_age_secs);
    require!(
        config.calor_price_micro_usd > 0
            && now.saturating_sub(config.calor_price_posted_at) <= max_age,
        CalorError::StaleCalorPrice
    );
    Ok(math::usd_to_tokens(
        usd_micro,
        config.calor_price_micro_usd,
        config.calor_decimals,
    )?)
}
