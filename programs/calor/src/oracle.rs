//! Prices: Pyth `PriceUpdateV2` for SOL/USD and the authority-posted Calor/USD rate.
//!
//! The price update is read in place (owner, discriminator, verification level, then the
//! fields at their fixed offsets) rather than Borsh-decoded whole: opens and extensions read
//! five of its fields, and the SDK's account type would add its decoding to every open.
use anchor_lang::error::ErrorCode;
use anchor_lang::prelude::*;

use crate::constants::MAX_PRICE_FUTURE_SKEW_SECS;
use crate::errors::CalorError;
use crate::math;
use crate::state::{Config, OracleParams};

/// The Pyth Solana receiver program: the only owner of genuine `PriceUpdateV2` accounts.
pub const PYTH_RECEIVER_ID: Pubkey = pubkey!("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");
/// Anchor discriminator of the receiver's `PriceUpdateV2` account.
pub const PRICE_UPDATE_V2_DISCRIMINATOR: [u8; 8] = [34, 241, 35, 99, 157, 126, 244, 205];

/// Borsh layout: discriminator (8), write authority (32), verification level (tag 1 = `Full`,
/// one byte; `Partial` has a second byte), then the price message.
const VERIFICATION_OFFSET: usize = 8 + 32;
const FULL: u8 = 1;
const MESSAGE_OFFSET: usize = VERIFICATION_OFFSET + 1;
const MESSAGE_LEN: usize = 32 + 8 + 8 + 4 + 8;

/// The fields of a fully verified SOL/USD price update that pricing uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PriceMessage {
    pub feed_id: [u8; 32],
    pub price: i64,
    pub conf: u64,
    pub exponent: i32,
    pub publish_time: i64,
}

impl PriceMessage {
    /// Reads a `PriceUpdateV2` account after checking its owner, discriminator and full
    /// Wormhole verification.
    pub fn load(info: &AccountInfo) -> Result<Self> {
        if *info.owner != PYTH_RECEIVER_ID {
            return Err(Error::from(ErrorCode::AccountOwnedByWrongProgram)
                .with_pubkeys((*info.owner, PYTH_RECEIVER_ID)));
        }
        let data = info.try_borrow_data()?;
        if data.get(..8) != Some(&PRICE_UPDATE_V2_DISCRIMINATOR[..]) {
            return err!(ErrorCode::AccountDiscriminatorMismatch);
        }
        require!(
            data.get(VERIFICATION_OFFSET) == Some(&FULL),
            CalorError::PriceNotVerified
        );
        let m = data
            .get(MESSAGE_OFFSET..MESSAGE_OFFSET + MESSAGE_LEN)
            .ok_or(ErrorCode::AccountDidNotDeserialize)?;
        let word = |at: usize| <[u8; 8]>::try_from(&m[at..at + 8]).expect("8 bytes");
        Ok(Self {
            feed_id: m[..32].try_into().expect("32 bytes"),
            price: i64::from_le_bytes(word(32)),
            conf: u64::from_le_bytes(word(40)),
            exponent: i32::from_le_bytes(m[48..52].try_into().expect("4 bytes")),
            publish_time: i64::from_le_bytes(word(52)),
        })
    }

    /// Checks that this is the pinned feed, fresh (neither older than `max_age_secs` nor
    /// published in the future beyond a small clock skew) and narrow enough.
    pub fn check(&self, params: &OracleParams, now: i64) -> Result<()> {
        require!(self.feed_id == params.feed_id, CalorError::WrongPriceFeed);
        require!(
            self.publish_time <= now.saturating_add(MAX_PRICE_FUTURE_SKEW_SECS),
            CalorError::PriceFromFuture
        );
        require!(
            now.saturating_sub(self.publish_time) <= i64::from(params.max_age_secs),
            CalorError::StalePrice
        );
        require!(self.price > 0, CalorError::InvalidOraclePrice);
        require!(
            math::confidence_within(self.price, self.conf, params.max_conf_bps),
            CalorError::PriceConfidenceTooWide
        );
        Ok(())
    }
}

/// Lamports worth `usd_micro` at the SOL/USD price in `update` (checked as above), at the
/// conservative price `price − conf`.
pub fn usd_to_lamports(
    update: &AccountInfo,
    params: &OracleParams,
    now: i64,
    usd_micro: u64,
) -> Result<u64> {
    let msg = PriceMessage::load(update)?;
    msg.check(params, now)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::Discriminator;
    use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;

    #[test]
    fn constants_match_the_receiver_sdk() {
        assert_eq!(PYTH_RECEIVER_ID, pyth_solana_receiver_sdk::ID);
        assert_eq!(PriceUpdateV2::DISCRIMINATOR, PRICE_UPDATE_V2_DISCRIMINATOR);
    }
}
