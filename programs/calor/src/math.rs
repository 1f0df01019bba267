//! Pure, checked arithmetic for prices, pro rata and splits. No account access here, so all
//! of it is unit-tested on the host. Rounding always favours the escrow: what the renter
//! pays is rounded up (by at most one unit), what leaves the escrow is rounded down, so the
//! escrow can never pay out more than it holds.
use crate::constants::{BPS_DENOMINATOR, MAX_ORACLE_EXPONENT, MICRO_USD_PER_USD};

/// Errors of the pure math layer; handlers turn them into [`crate::errors::CalorError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathError {
    Overflow,
    DivideByZero,
    /// A price that is zero, negative (after confidence) or has an absurd exponent.
    InvalidPrice,
}

pub type MathResult<T> = core::result::Result<T, MathError>;

impl From<MathError> for anchor_lang::error::Error {
    fn from(e: MathError) -> Self {
        match e {
            MathError::InvalidPrice => crate::errors::CalorError::InvalidOraclePrice.into(),
            MathError::Overflow | MathError::DivideByZero => {
                crate::errors::CalorError::MathOverflow.into()
            }
        }
    }
}

const LAMPORTS_PER_SOL: u128 = 1_000_000_000;

/// `amount * bps / 10_000`, rounded down.
pub fn bps_of(amount: u64, bps: u16) -> MathResult<u64> {
    mul_div_floor(amount, u64::from(bps), u64::from(BPS_DENOMINATOR))
}

/// `a * b / d` in u128, rounded down.
pub fn mul_div_floor(a: u64, b: u64, d: u64) -> MathResult<u64> {
    if d == 0 {
        return Err(MathError::DivideByZero);
    }
    let q = u128::from(a)
        .checked_mul(u128::from(b))
        .ok_or(MathError::Overflow)?
        / u128::from(d);
    u64::try_from(q).map_err(|_| MathError::Overflow)
}

/// `a * b / d` in u128, rounded up.
pub fn mul_div_ceil(a: u64, b: u64, d: u64) -> MathResult<u64> {
    if d == 0 {
        return Err(MathError::DivideByZero);
    }
    let n = u128::from(a)
        .checked_mul(u128::from(b))
        .ok_or(MathError::Overflow)?;
    u64::try_from(n.div_ceil(u128::from(d))).map_err(|_| MathError::Overflow)
}

fn pow10(exp: u32) -> MathResult<u128> {
    10u128.checked_pow(exp).ok_or(MathError::Overflow)
}

/// Market cost of `hours` node-hours at `rate` micro-USD per hour.
pub fn usd_cost(hourly_rate_micro_usd: u64, hours: u32) -> MathResult<u64> {
    hourly_rate_micro_usd
        .checked_mul(u64::from(hours))
        .ok_or(MathError::Overflow)
}

/// The USD value paid in Calor: the market cost less the subsidy, rounded up.
pub fn subsidised_usd(market_micro_usd: u64, subsidy_bps: u16) -> MathResult<u64> {
    let keep = BPS_DENOMINATOR
        .checked_sub(subsidy_bps)
        .ok_or(MathError::Overflow)?;
    mul_div_ceil(
        market_micro_usd,
        u64::from(keep),
        u64::from(BPS_DENOMINATOR),
    )
}

/// Whether `conf` is within `max_bps` of `price` (both in the oracle's units).
pub fn confidence_within(price: i64, conf: u64, max_bps: u16) -> bool {
    if price <= 0 {
        return false;
    }
    u128::from(conf) * u128::from(BPS_DENOMINATOR) <= price as u128 * u128::from(max_bps)
}

/// Lamports worth `usd_micro` at the oracle price `price × 10^exponent` USD/SOL, using the
/// conservative price `price − conf` (the lowest SOL price the oracle vouches for, so the
/// renter never pays less than the value), rounded up.
pub fn usd_to_lamports(usd_micro: u64, price: i64, conf: u64, exponent: i32) -> MathResult<u64> {
    if !(-MAX_ORACLE_EXPONENT..=MAX_ORACLE_EXPONENT).contains(&exponent) || price <= 0 {
        return Err(MathError::InvalidPrice);
    }
    let conservative = (price as u128)
        .checked_sub(u128::from(conf))
        .filter(|p| *p > 0)
        .ok_or(MathError::InvalidPrice)?;
    // lamports = usd_micro / 1e6 * 1e9 / (conservative * 10^exponent)
    let scale = LAMPORTS_PER_SOL / u128::from(MICRO_USD_PER_USD);
    let mut numerator = u128::from(usd_micro)
        .checked_mul(scale)
        .ok_or(MathError::Overflow)?;
    let mut denominator = conservative;
    if exponent < 0 {
        numerator = numerator
            .checked_mul(pow10(exponent.unsigned_abs())?)
            .ok_or(MathError::Overflow)?;
    } else {
        denominator = denominator
            .checked_mul(pow10(exponent as u32)?)
            .ok_or(MathError::Overflow)?;
    }
    u64::try_from(numerator.div_ceil(denominator)).map_err(|_| MathError::Overflow)
}

/// Calor base units worth `usd_micro` at `price_micro_usd` per whole token, rounded up.
pub fn usd_to_tokens(usd_micro: u64, price_micro_usd: u64, decimals: u8) -> MathResult<u64> {
    if price_micro_usd == 0 {
        return Err(MathError::InvalidPrice);
    }
    let n = u128::from(usd_micro)
        .checked_mul(pow10(u32::from(decimals))?)
        .ok_or(MathError::Overflow)?;
    u64::try_from(n.div_ceil(u128::from(price_micro_usd))).map_err(|_| MathError::Overflow)
}

/// The part of `escrowed` earned by `served_secs` of `paid_secs`, rounded down.
pub fn pro_rata(escrowed: u64, served_secs: u64, paid_secs: u64) -> MathResult<u64> {
    if served_secs > paid_secs {
        return Err(MathError::Overflow);
    }
    mul_div_floor(escrowed, served_secs, paid_secs)
}

/// Where a settled rental's escrow goes. The parts always add up to the escrow exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settlement {
    pub provider: u64,
    pub fee: u64,
    pub burn: u64,
    pub refund: u64,
}

/// Splits an escrow: the served share pays the fee and the burn (each rounded down) and the
/// provider gets the rest of it; the unserved share goes back to the renter.
pub fn settle(
    escrowed: u64,
    served_secs: u64,
    paid_secs: u64,
    fee_bps: u16,
    burn_bps: u16,
) -> MathResult<Settlement> {
    let spent = pro_rata(escrowed, served_secs, paid_secs)?;
    let fee = bps_of(spent, fee_bps)?;
    let burn = bps_of(spent, burn_bps)?;
    let provider = spent
        .checked_sub(fee)
        .and_then(|r| r.checked_sub(burn))
        .ok_or(MathError::Overflow)?;
    Ok(Settlement {
        provider,
        fee,
        burn,
        refund: escrowed - spent,
    })
}

/// Scale of the reward-per-share accumulator: 10^12 keeps a 1-base-unit reward over
/// 10^12 staked base units visible, and 10^19 × 10^12 fits a u128 many times over.
pub const REWARD_SCALE: u128 = 1_000_000_000_000;

/// One epoch's distribution: how far the accumulator rises and how much of the vault that
/// commits to stakers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Distribution {
    pub per_share_increment: u128,
    /// Rounded up, so that it covers every staker's (rounded-down) credit; never more than
    /// the amount distributed.
    pub committed: u64,
}

/// Spreads `amount` over `active_stake`; nothing moves while no stake is active (the
/// rewards wait for the next epoch).
pub fn distribute(amount: u64, active_stake: u64) -> MathResult<Distribution> {
    if active_stake == 0 {
        return Ok(Distribution {
            per_share_increment: 0,
            committed: 0,
        });
    }
    let increment = u128::from(amount)
        .checked_mul(REWARD_SCALE)
        .ok_or(MathError::Overflow)?
        / u128::from(active_stake);
    let committed = increment
        .checked_mul(u128::from(active_stake))
        .ok_or(MathError::Overflow)?
        .div_ceil(REWARD_SCALE);
    Ok(Distribution {
        per_share_increment: increment,
        committed: u64::try_from(committed).map_err(|_| MathError::Overflow)?,
    })
}

/// Rewards earned by `stake` while the accumulator rose from `from` to `to`, rounded down.
pub fn rewards_earned(stake: u64, from: u128, to: u128) -> MathResult<u64> {
    let rise = to.checked_sub(from).ok_or(MathError::Overflow)?;
    let earned = u128::from(stake)
        .checked_mul(rise)
        .ok_or(MathError::Overflow)?
        / REWARD_SCALE;
    u64::try_from(earned).map_err(|_| MathError::Overflow)
}

/// Routing priority: how many of the ascending `tiers` the stake reaches (0 to 3).
pub fn priority_tier(stake: u64, tiers: &[u64]) -> u8 {
    tiers.iter().filter(|&&t| stake >= t).count() as u8
}

/// Whether `votes` reach `quorum_bps` of `total` (a zero total never reaches it).
pub fn quorum_reached(votes: u64, total: u64, quorum_bps: u16) -> bool {
    total > 0
        && u128::from(votes) * u128::from(BPS_DENOMINATOR)
            >= u128::from(total) * u128::from(quorum_bps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_never_owes_more_than_it_has() {
        let d = distribute(1_000, 3).unwrap();
        assert_eq!(d.per_share_increment, 333_333_333_333_333);
        assert_eq!(d.committed, 1_000);
        // each of three stakers of 1 gets ⌊333.33…⌋ = 333; 999 ≤ 1,000 committed
        assert_eq!(rewards_earned(1, 0, d.per_share_increment), Ok(333));
        assert_eq!(
            distribute(5, 0).unwrap(),
            Distribution {
                per_share_increment: 0,
                committed: 0
            }
        );
        // rounding over many epochs: credits to a single staker stay within what was committed
        for (amount, stake) in [(7u64, 3u64), (1, 1_000_000_000_000_000), (999_999, 7)] {
            let (mut acc, mut committed) = (0u128, 0u64);
            for _ in 0..50 {
                let d = distribute(amount, stake).unwrap();
                acc += d.per_share_increment;
                committed += d.committed;
                assert!(d.committed <= amount);
                assert!(rewards_earned(stake, 0, acc).unwrap() <= committed);
            }
        }
        assert_eq!(rewards_earned(1, 5, 4), Err(MathError::Overflow));
    }

    #[test]
    fn tiers_and_quorum() {
        let tiers = [100, 1_000, 10_000];
        assert_eq!(priority_tier(0, &tiers), 0);
        assert_eq!(priority_tier(99, &tiers), 0);
        assert_eq!(priority_tier(100, &tiers), 1);
        assert_eq!(priority_tier(9_999, &tiers), 2);
        assert_eq!(priority_tier(u64::MAX, &tiers), 3);
        assert!(quorum_reached(2_000, 10_000, 2_000));
        assert!(!quorum_reached(1_999, 10_000, 2_000));
        assert!(!quorum_reached(0, 0, 1));
        assert!(quorum_reached(u64::MAX, u64::MAX, 10_000));
    }

    #[test]
    fn bps_rounds_down() {
        assert_eq!(bps_of(1_000, 250), Ok(25));
        assert_eq!(bps_of(999, 1), Ok(0));
        assert_eq!(bps_of(u64::MAX, 10_000), Ok(u64::MAX));
    }

    #[test]
    fn mul_div_rounding_directions() {
        assert_eq!(mul_div_floor(10, 1, 3), Ok(3));
        assert_eq!(mul_div_ceil(10, 1, 3), Ok(4));
        assert_eq!(mul_div_ceil(9, 1, 3), Ok(3));
        assert_eq!(mul_div_floor(1, 1, 0), Err(MathError::DivideByZero));
        assert_eq!(mul_div_floor(u64::MAX, 2, 1), Err(MathError::Overflow));
        assert_eq!(mul_div_floor(u64::MAX, u64::MAX, u64::MAX), Ok(u64::MAX));
    }

    #[test]
    fn usd_cost_and_subsidy() {
        assert_eq!(usd_cost(2_500_000, 4), Ok(10_000_000));
        assert_eq!(usd_cost(u64::MAX, 2), Err(MathError::Overflow));
        assert_eq!(subsidised_usd(10_000_000, 5_000), Ok(5_000_000));
        assert_eq!(subsidised_usd(10_000_000, 8_500), Ok(1_500_000));
        // rounded up: 1 micro-USD at 50% is still 1
        assert_eq!(subsidised_usd(1, 5_000), Ok(1));
        assert_eq!(subsidised_usd(3, 5_000), Ok(2));
    }

    #[test]
    fn lamports_at_the_conservative_price_rounded_up() {
        // $5 at $150.00 ± 0 (expo -8): 0.0333… SOL, rounded up to the lamport
        assert_eq!(
            usd_to_lamports(5_000_000, 15_000_000_000, 0, -8),
            Ok(33_333_334)
        );
        // ± $1.50: priced at $148.50 → more lamports
        assert_eq!(
            usd_to_lamports(5_000_000, 15_000_000_000, 150_000_000, -8),
            Ok(33_670_034)
        );
        // exact division is not rounded
        assert_eq!(
            usd_to_lamports(100_000_000, 10_000_000_000, 0, -8),
            Ok(1_000_000_000)
        );
        // positive exponents
        assert_eq!(usd_to_lamports(100_000_000, 1, 0, 2), Ok(1_000_000_000));
        assert_eq!(usd_to_lamports(1, 0, 0, -8), Err(MathError::InvalidPrice));
        assert_eq!(
            usd_to_lamports(1, 100, 100, -8),
            Err(MathError::InvalidPrice)
        );
        assert_eq!(usd_to_lamports(1, 100, 0, 19), Err(MathError::InvalidPrice));
        assert_eq!(
            usd_to_lamports(u64::MAX, 1, 0, -18),
            Err(MathError::Overflow)
        );
    }

    #[test]
    fn rounding_costs_the_renter_at_most_one_unit() {
        for (usd, price, conf) in [
            (5_000_000u64, 13_377_000_000i64, 12_345u64),
            (7_777_777, 99_999, 1),
            (123, 7, 3),
        ] {
            let lamports = usd_to_lamports(usd, price, conf, -8).unwrap() as u128;
            let exact_num = u128::from(usd) * 1_000 * 100_000_000;
            let den = (price as u128) - u128::from(conf);
            assert!(lamports * den >= exact_num, "never below the value");
            assert!(
                (lamports - 1) * den < exact_num,
                "at most one lamport above"
            );
        }
    }

    #[test]
    fn tokens_rounded_up() {
        // $5 at $0.25 per token, 6 decimals: 20 tokens
        assert_eq!(usd_to_tokens(5_000_000, 250_000, 6), Ok(20_000_000));
        assert_eq!(usd_to_tokens(1, 3, 0), Ok(1));
        assert_eq!(usd_to_tokens(1, 0, 6), Err(MathError::InvalidPrice));
    }

    #[test]
    fn confidence_check() {
        assert!(confidence_within(10_000, 200, 200));
        assert!(!confidence_within(10_000, 201, 200));
        assert!(!confidence_within(0, 0, 200));
        assert!(!confidence_within(-5, 0, 200));
    }

    #[test]
    fn settlement_adds_up_and_never_exceeds_the_escrow() {
        let s = settle(1_000_003, 1_800, 3_600, 500, 2_000).unwrap();
        assert_eq!(
            s,
            Settlement {
                provider: 375_001,
                fee: 25_000,
                burn: 100_000,
                refund: 500_002
            }
        );
        assert_eq!(s.provider + s.fee + s.burn + s.refund, 1_000_003);
        assert_eq!(settle(10, 0, 3_600, 500, 0).unwrap().refund, 10);
        assert_eq!(settle(10, 3_600, 3_600, 0, 0).unwrap().provider, 10);
        assert_eq!(settle(10, 3_601, 3_600, 0, 0), Err(MathError::Overflow));
        // exhaustive small cases
        for escrow in 0..200u64 {
            for served in 0..=7u64 {
                let s = settle(escrow, served, 7, 333, 777).unwrap();
                assert_eq!(s.provider + s.fee + s.burn + s.refund, escrow);
                assert!(s.refund >= escrow - escrow * served / 7);
            }
        }
    }
}
