//! What an open costs, worked out off-chain by the program's own rules (`calor::math` and
//! `calor::oracle`): the API quotes with it before the wallet signs, and the transaction
//! carries `max_payment` so a price that moves before it lands can never take more.
use anchor_lang::AccountDeserialize;
use calor::constants::MAX_RENTAL_HOURS;
use calor::math;
use calor::oracle::PriceMessage;
use calor::state::{Config, PaymentKind};
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

use crate::Pubkey;

/// Why an open cannot be quoted; each names what to change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuoteError {
    /// Hours outside 1..=`max`.
    Hours { max: u32 },
    /// What the renter would pay is under the protocol's minimum.
    BelowMinimum {
        paid_usd_micro: u64,
        minimum_usd_micro: u64,
        /// The fewest hours at this rate that reach the minimum.
        minimum_hours: Option<u32>,
    },
    /// The price cannot be used now; the program's error name (`StalePrice`,
    /// `StaleCalorPrice`, `WrongPriceFeed`, `PriceConfidenceTooWide`, ...).
    Price(String),
    /// The account given as the SOL/USD price is not a verified Pyth price update.
    NotAPriceUpdate,
    /// The amounts overflow (an absurd rate).
    Overflow,
}

impl std::fmt::Display for QuoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuoteError::Hours { max } => write!(f, "hours must be between 1 and {max}"),
            QuoteError::BelowMinimum {
                paid_usd_micro,
                minimum_usd_micro,
                minimum_hours,
            } => {
                write!(
                    f,
                    "this rental costs {}, under the minimum of {}",
                    usd(*paid_usd_micro),
                    usd(*minimum_usd_micro)
                )?;
                match minimum_hours {
                    Some(h) => write!(f, ": rent at least {h} hours at this rate"),
                    None => Ok(()),
                }
            }
            QuoteError::Price(name) => write!(f, "the price cannot be used now ({name})"),
            QuoteError::NotAPriceUpdate => {
                write!(f, "the SOL/USD account is not a verified Pyth price update")
            }
            QuoteError::Overflow => write!(f, "the amounts overflow"),
        }
    }
}

impl std::error::Error for QuoteError {}

/// Micro-USD as dollars and cents, rounded up to the cent.
pub fn usd(micro: u64) -> String {
    let cents = micro.div_ceil(10_000);
    format!("${}.{:02}", cents / 100, cents % 100)
}

/// Reads a SOL/USD `PriceUpdateV2` account as the program does: owned by the Pyth receiver,
/// fully verified.
pub fn price_message(owner: &Pubkey, mut data: &[u8]) -> Result<PriceMessage, QuoteError> {
    if *owner != calor::oracle::PYTH_RECEIVER_ID {
        return Err(QuoteError::NotAPriceUpdate);
    }
    let update =
        PriceUpdateV2::try_deserialize(&mut data).map_err(|_| QuoteError::NotAPriceUpdate)?;
    if update.verification_level != VerificationLevel::Full {
        return Err(QuoteError::NotAPriceUpdate);
    }
    let m = update.price_message;
    Ok(PriceMessage {
        feed_id: m.feed_id,
        price: m.price,
        conf: m.conf,
        exponent: m.exponent,
        publish_time: m.publish_time,
    })
}

/// The cost of buying `hours` at `hourly_rate_micro_usd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quote {
    pub payment: PaymentKind,
    pub hours: u32,
    pub hourly_rate_micro_usd: u64,
    /// The market value of the hours.
    pub market_usd_micro: u64,
    /// What the renter pays in USD (the market value less the Calor subsidy).
    pub paid_usd_micro: u64,
    pub minimum_usd_micro: u64,
    /// Lamports (SOL) or Calor base units the program will take at today's price.
    pub amount: u64,
    /// The most the transaction allows the program to take (`amount` plus slippage).
    pub max_payment: u64,
}

fn program_error(e: anchor_lang::error::Error) -> QuoteError {
    match e {
        anchor_lang::error::Error::AnchorError(e) => QuoteError::Price(e.error_name),
        anchor_lang::error::Error::ProgramError(e) => {
            QuoteError::Price(e.program_error.to_string())
        }
    }
}

/// What the renter pays in USD for `hours` at `rate` with `kind`.
fn paid_usd(config: &Config, rate: u64, hours: u32, kind: PaymentKind) -> Result<u64, QuoteError> {
    let market = math::usd_cost(rate, hours).map_err(|_| QuoteError::Overflow)?;
    match kind {
        PaymentKind::Sol => Ok(market),
        PaymentKind::Calor => math::subsidised_usd(market, config.params.calor_subsidy_bps)
            .map_err(|_| QuoteError::Overflow),
    }
}

/// Quotes an open (or an extension: the same rules price it) at time `now`. `sol_usd` is
/// the SOL/USD price (needed for SOL); `slippage_bps` widens `max_payment` above the amount.
pub fn quote(
    config: &Config,
    sol_usd: Option<&PriceMessage>,
    now: i64,
    hourly_rate_micro_usd: u64,
    hours: u32,
    kind: PaymentKind,
    slippage_bps: u16,
) -> Result<Quote, QuoteError> {
    if !(1..=MAX_RENTAL_HOURS).contains(&hours) {
        return Err(QuoteError::Hours {
            max: MAX_RENTAL_HOURS,
        });
    }
    let market_usd_micro =
        math::usd_cost(hourly_rate_micro_usd, hours).map_err(|_| QuoteError::Overflow)?;
    let paid_usd_micro = paid_usd(config, hourly_rate_micro_usd, hours, kind)?;
    let minimum_usd_micro = config.params.min_rental_micro_usd;
    if paid_usd_micro < minimum_usd_micro {
        let minimum_hours = (hours..=MAX_RENTAL_HOURS).find(|h| {
            paid_usd(config, hourly_rate_micro_usd, *h, kind)
                .is_ok_and(|paid| paid >= minimum_usd_micro)
        });
        return Err(QuoteError::BelowMinimum {
            paid_usd_micro,
            minimum_usd_micro,
            minimum_hours,
        });
    }
    let amount = match kind {
        PaymentKind::Sol => sol_amount(config, sol_usd, now, paid_usd_micro)?,
        PaymentKind::Calor => {
            calor::oracle::usd_to_calor(config, now, paid_usd_micro).map_err(program_error)?
        }
    };
    let max_payment = with_slippage(amount, slippage_bps)?;
    Ok(Quote {
        payment: kind,
        hours,
        hourly_rate_micro_usd,
        market_usd_micro,
        paid_usd_micro,
        minimum_usd_micro,
        amount,
        max_payment,
    })
}

/// Lamports worth `usd_micro` at the SOL/USD price, checked as the program checks it.
fn sol_amount(
    config: &Config,
    sol_usd: Option<&PriceMessage>,
    now: i64,
    usd_micro: u64,
) -> Result<u64, QuoteError> {
    let price = sol_usd.ok_or(QuoteError::NotAPriceUpdate)?;
    price
        .check(&config.params.sol_usd_oracle, now)
        .map_err(program_error)?;
    math::usd_to_lamports(usd_micro, price.price, price.conf, price.exponent)
        .map_err(|_| QuoteError::Price("InvalidOraclePrice".into()))
}

/// `amount` plus `slippage_bps` of it: the most a transaction lets the program take.
fn with_slippage(amount: u64, slippage_bps: u16) -> Result<u64, QuoteError> {
    amount
        .checked_add(math::bps_of(amount, slippage_bps).map_err(|_| QuoteError::Overflow)?)
        .ok_or(QuoteError::Overflow)
}

/// A purchase of `hours` more: how a rental is extended, whatever it pays with.
#[derive(Debug, Clone, Copy)]
pub struct Extension {
    /// Hours the rental has bought so far (the open and earlier extensions).
    pub hours_bought: u32,
    /// The rental's own rate: an extension pays what the open agreed.
    pub hourly_rate_micro_usd: u64,
    pub hours: u32,
}

impl Extension {
    /// The market value of the hours; no minimum applies (the open met it) and the rental
    /// stays within `MAX_RENTAL_HOURS` in all.
    fn market_usd(&self) -> Result<u64, QuoteError> {
        let left = MAX_RENTAL_HOURS.saturating_sub(self.hours_bought);
        if self.hours == 0 || self.hours > left {
            return Err(QuoteError::Hours { max: left });
        }
        math::usd_cost(self.hourly_rate_micro_usd, self.hours).map_err(|_| QuoteError::Overflow)
    }

    fn quote(
        &self,
        payment: PaymentKind,
        market_usd_micro: u64,
        paid_usd_micro: u64,
        amount: u64,
        slippage_bps: u16,
    ) -> Result<Quote, QuoteError> {
        Ok(Quote {
            payment,
            hours: self.hours,
            hourly_rate_micro_usd: self.hourly_rate_micro_usd,
            market_usd_micro,
            paid_usd_micro,
            minimum_usd_micro: 0,
            amount,
            max_payment: with_slippage(amount, slippage_bps)?,
        })
    }
}

/// Quotes `extend_sol`: `hours` more of a running SOL rental that has bought `hours_bought`
/// so far, at its own `hourly_rate_micro_usd` and today's price.
pub fn quote_sol_extension(
    config: &Config,
    sol_usd: Option<&PriceMessage>,
    now: i64,
    hours_bought: u32,
    hourly_rate_micro_usd: u64,
    hours: u32,
    slippage_bps: u16,
) -> Result<Quote, QuoteError> {
    let extension = Extension {
        hours_bought,
        hourly_rate_micro_usd,
        hours,
    };
    let usd = extension.market_usd()?;
    let amount = sol_amount(config, sol_usd, now, usd)?;
    extension.quote(PaymentKind::Sol, usd, usd, amount, slippage_bps)
}

/// Quotes `extend_calor`: `extension` of a running Calor rental with the subsidy share fixed at
/// its open (`subsidy_bps`) and today's Calor rate, as the program prices it.
pub fn quote_calor_extension(
    config: &Config,
    now: i64,
    extension: Extension,
    subsidy_bps: u16,
    slippage_bps: u16,
) -> Result<Quote, QuoteError> {
    let market = extension.market_usd()?;
    let usd = math::subsidised_usd(market, subsidy_bps).map_err(|_| QuoteError::Overflow)?;
    let amount = calor::oracle::usd_to_calor(config, now, usd).map_err(program_error)?;
    extension.quote(PaymentKind::Calor, market, usd, amount, slippage_bps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{launch_params, CALOR_DECIMALS};
    use crate::pyth::{price_update_data, PythPrice};
    use bytemuck::Zeroable;

    const NOW: i64 = 1_800_000_000;

    fn config() -> Config {
        let mut config = Config::zeroed();
        config.params = launch_params();
        config.calor_decimals = CALOR_DECIMALS;
        config.calor_price_micro_usd = 50_000;
        config.calor_price_posted_at = NOW - 10;
        config
    }

    fn sol_at(usd_cents: i64, publish_time: i64) -> PriceMessage {
        let data = price_update_data(&PythPrice::sol_usd(usd_cents, 5, publish_time), 1);
        price_message(&calor::oracle::PYTH_RECEIVER_ID, &data).unwrap()
    }

    #[test]
    fn sol_costs_what_the_program_takes() {
        let q = quote(
            &config(),
            Some(&sol_at(15_000, NOW)),
            NOW,
            2_000_000,
            3,
            PaymentKind::Sol,
            100,
        )
        .unwrap();
        assert_eq!(q.paid_usd_micro, 6_000_000);
        // $6 at the conservative price $149.95
        assert_eq!(
            q.amount,
            math::usd_to_lamports(6_000_000, 15_000_000_000, 5_000_000, -8).unwrap()
        );
        assert_eq!(q.max_payment, q.amount + q.amount / 100);
    }

    #[test]
    fn calor_pays_the_subsidised_value() {
        let c = config();
        let q = quote(&c, None, NOW, 2_000_000, 10, PaymentKind::Calor, 0).unwrap();
        let paid = math::subsidised_usd(20_000_000, c.params.calor_subsidy_bps).unwrap();
        assert_eq!(q.paid_usd_micro, paid);
        assert_eq!(
            q.amount,
            math::usd_to_tokens(paid, 50_000, CALOR_DECIMALS).unwrap()
        );
    }

    #[test]
    fn below_the_minimum_names_the_hours_that_reach_it() {
        let e = quote(
            &config(),
            Some(&sol_at(15_000, NOW)),
            NOW,
            2_000_000,
            1,
            PaymentKind::Sol,
            0,
        )
        .unwrap_err();
        assert_eq!(
            e,
            QuoteError::BelowMinimum {
                paid_usd_micro: 2_000_000,
                minimum_usd_micro: 5_000_000,
                minimum_hours: Some(3),
            }
        );
        assert!(e.to_string().contains("at least 3 hours"), "{e}");
    }

    #[test]
    fn stale_or_foreign_prices_are_refused_by_name() {
        let stale = sol_at(15_000, NOW - 3_600);
        let e = quote(
            &config(),
            Some(&stale),
            NOW,
            2_000_000,
            3,
            PaymentKind::Sol,
            0,
        )
        .unwrap_err();
        assert_eq!(e, QuoteError::Price("StalePrice".into()));
        let data = price_update_data(&PythPrice::sol_usd(15_000, 5, NOW), 1);
        assert_eq!(
            price_message(&Pubkey::new_unique(), &data).unwrap_err(),
            QuoteError::NotAPriceUpdate
        );
        let mut c = config();
        c.calor_price_posted_at = NOW - 10 * 3_600;
        let e = quote(&c, None, NOW, 2_000_000, 10, PaymentKind::Calor, 0).unwrap_err();
        assert_eq!(e, QuoteError::Price("StaleCalorPrice".into()));
        assert_eq!(
            quote(&c, None, NOW, 2_000_000, 0, PaymentKind::Calor, 0).unwrap_err(),
            QuoteError::Hours {
                max: MAX_RENTAL_HOURS
            }
        );
    }
}
