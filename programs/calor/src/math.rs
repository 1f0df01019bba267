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

/// `a * b / d`, rounded down. The product is taken in u64 when it fits (a native division
/// on SBF) and in u128 otherwise (a software division costing hundreds of compute units).
pub fn mul_div_floor(a: u64, b: u64, d: u64) -> MathResult<u64> {
    if d == 0 {
        return Err(MathError::DivideByZero);
    }
    if let Some(product) = a.checked_mul(b) {
        return Ok(product / d);
    }
    let q = u128::from(a)
        .checked_mul(u128::from(b))
        .ok_or(MathError::Overflow)?
        / u128::from(d);
    u64::try_from(q).map_err(|_| MathError::Overflow)
}

/// `a * b / d`, rounded up (u64 when the product fits, as above).
pub fn mul_div_ceil(a: u64, b: u64, d: u64) -> MathResult<u64> {
    if d == 0 {
        return Err(MathError::DivideByZero);
    }
    if let Some(product) = a.checked_mul(b) {
        return Ok(product.div_ceil(d));
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
    // both usually fit a u64 (a native division on SBF)
    if let (Ok(n), Ok(d)) = (u64::try_from(numerator), u64::try_from(denominator)) {
        return Ok(n.div_ceil(d));
    }
    u64::try_from(numerator.div_ceil(denominator)).map_err(|_| MathError::Overflow)
}

/// Calor base units worth `usd_micro` at `price_micro_usd` per whole token, rounded up.
pub fn usd_to_tokens(usd_micro: u64, price_micro_usd: u64, decimals: u8) -> MathResult<u64> {
    if price_micro_usd == 0 {
        return Err(MathError::InvalidPrice);
    }
    if let Some(scale) = 10u64.checked_pow(u32::from(decimals)) {
        return mul_div_ceil(usd_micro, scale, price_micro_usd);
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

/// One purchase of hours: the open, or an extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purchase {
    pub hours: u32,
    /// Lamports or Calor base units the renter paid for these hours.
    pub amount: u64,
}

/// The shares a rental settles with, fixed when it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SettleTerms {
    pub fee_bps: u16,
    /// Calor only; 0 for SOL.
    pub burn_bps: u16,
    /// Calor only; 0 for SOL.
    pub subsidy_bps: u16,
    /// Share of the fee that goes to stakers (Calor only).
    pub staker_share_bps: u16,
}

/// The subsidy the protocol adds to a Calor payment of `renter_amount` at `subsidy_bps`, so
/// that the two together are the market value: `⌊R × s / (10,000 − s)⌋`.
pub fn subsidy_for(renter_amount: u64, subsidy_bps: u16) -> MathResult<u64> {
    let keep = BPS_DENOMINATOR
        .checked_sub(subsidy_bps)
        .filter(|k| *k > 0)
        .ok_or(MathError::Overflow)?;
    mul_div_floor(renter_amount, u64::from(subsidy_bps), u64::from(keep))
}

/// What one purchase is worth at market, and what the subsidy vault must hold for it: the
/// subsidy plus the burn that market value funds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurchaseValue {
    pub market: u64,
    pub subsidy: u64,
    pub burn: u64,
}

impl PurchaseValue {
    pub fn of(amount: u64, terms: &SettleTerms) -> MathResult<Self> {
        let subsidy = subsidy_for(amount, terms.subsidy_bps)?;
        let market = amount.checked_add(subsidy).ok_or(MathError::Overflow)?;
        Ok(Self {
            market,
            subsidy,
            burn: bps_of(market, terms.burn_bps)?,
        })
    }

    /// Reserved in the subsidy vault from the purchase until settlement.
    pub fn reservation(&self) -> MathResult<u64> {
        self.subsidy
            .checked_add(self.burn)
            .ok_or(MathError::Overflow)
    }
}

/// Where a settled rental's money goes. Renter's escrow + `subsidy_drawn` =
/// `provider + fee + burned + refund`, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Settlement {
    /// The market value of the time served, less the fee: the same whatever the renter paid
    /// with.
    pub provider: u64,
    /// The protocol fee on the market value served; `staker_rewards` of it go to stakers,
    /// the rest to the treasury.
    pub fee: u64,
    pub staker_rewards: u64,
    pub burned: u64,
    /// What the renter paid for hours not served, at each purchase's own price.
    pub refund: u64,
    /// Taken from the subsidy vault: the subsidised part of the time served and the burn.
    pub subsidy_drawn: u64,
    /// The reservation the rental held in the subsidy vault, released at settlement.
    pub reserved: u64,
}

impl Settlement {
    pub fn treasury_fee(&self) -> u64 {
        self.fee - self.staker_rewards
    }
}

/// Settles purchases in order: served seconds use up the first purchase's hours, then the
/// next one's, each prorated at the price paid for it (rounded down, so no share can exceed
/// what backs it). A later purchase therefore never changes what earlier time pays.
pub fn settle(
    purchases: impl IntoIterator<Item = Purchase>,
    served_secs: u64,
    terms: &SettleTerms,
) -> MathResult<Settlement> {
    let (mut paid, mut market_spent, mut renter_spent) = (0u64, 0u64, 0u64);
    let (mut burned, mut reserved, mut left) = (0u64, 0u64, served_secs);
    for p in purchases {
        let secs = u64::from(p.hours)
            .checked_mul(u64::from(crate::constants::SECS_PER_HOUR))
            .ok_or(MathError::Overflow)?;
        let used = left.min(secs);
        left -= used;
        let value = PurchaseValue::of(p.amount, terms)?;
        let add = |sum: u64, x: u64| sum.checked_add(x).ok_or(MathError::Overflow);
        paid = add(paid, p.amount)?;
        reserved = add(reserved, value.reservation()?)?;
        market_spent = add(market_spent, pro_rata(value.market, used, secs)?)?;
        renter_spent = add(renter_spent, pro_rata(p.amount, used, secs)?)?;
        burned = add(burned, pro_rata(value.burn, used, secs)?)?;
    }
    if left > 0 {
        return Err(MathError::Overflow);
    }
    let fee = bps_of(market_spent, terms.fee_bps)?;
    let staker_rewards = bps_of(fee, terms.staker_share_bps)?;
    let subsidised_spent = market_spent
        .checked_sub(renter_spent)
        .ok_or(MathError::Overflow)?;
    Ok(Settlement {
        provider: market_spent - fee,
        fee,
        staker_rewards,
        burned,
        refund: paid - renter_spent,
        subsidy_drawn: subsidised_spent
            .checked_add(burned)
            .ok_or(MathError::Overflow)?,
        reserved,
    })
}

/// Whether a posted rate may move from `old` to `new` after `elapsed_secs`: at most
/// `max_bps_per_hour` of `old` per hour, pro rata (the first rate, `old == 0`, is free within
/// the bounds).
pub fn price_move_allowed(old: u64, new: u64, elapsed_secs: i64, max_bps_per_hour: u16) -> bool {
    if old == 0 {
        return true;
    }
    let elapsed = u128::try_from(elapsed_secs.max(0)).unwrap_or(0);
    u128::from(old.abs_diff(new))
        * u128::from(BPS_DENOMINATOR)
        * u128::from(crate::constants::SECS_PER_HOUR)
        <= u128::from(old) * u128::from(max_bps_per_hour) * elapsed
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

    fn one(hours: u32, amount: u64) -> Vec<Purchase> {
        vec![Purchase { hours, amount }]
    }

    const SOL: SettleTerms = SettleTerms {
        fee_bps: 500,
        burn_bps: 0,
        subsidy_bps: 0,
        staker_share_bps: 0,
    };

    #[test]
    fn settlement_adds_up_and_never_exceeds_the_escrow() {
        let s = settle(one(1, 1_000_003), 1_800, &SOL).unwrap();
        assert_eq!(
            s,
            Settlement {
                provider: 475_001,
                fee: 25_000,
                staker_rewards: 0,
                burned: 0,
                refund: 500_002,
                subsidy_drawn: 0,
                reserved: 0,
            }
        );
        assert_eq!(settle(one(1, 10), 0, &SOL).unwrap().refund, 10);
        assert_eq!(settle(one(1, 10), 3_600, &SOL).unwrap().provider, 10);
        assert_eq!(settle(one(1, 10), 3_601, &SOL), Err(MathError::Overflow));
        // exhaustive small cases, with Calor terms
        let terms = SettleTerms {
            fee_bps: 333,
            burn_bps: 777,
            subsidy_bps: 5_000,
            staker_share_bps: 5_000,
        };
        for a in 0..60u64 {
            for b in [0u64, 1, 7, 59] {
                for served in (0..=10_800u64).step_by(1_350) {
                    let ps = vec![
                        Purchase {
                            hours: 2,
                            amount: a,
                        },
                        Purchase {
                            hours: 1,
                            amount: b,
                        },
                    ];
                    let s = settle(ps, served, &terms).unwrap();
                    assert_eq!(
                        s.provider + s.fee + s.burned + s.refund,
                        a + b + s.subsidy_drawn
                    );
                    assert!(s.subsidy_drawn <= s.reserved);
                    assert!(s.staker_rewards <= s.fee);
                }
            }
        }
    }

    #[test]
    fn an_extension_never_reprices_time_served_before_it() {
        // 2 h bought for 1,000,000; after a 2x price move an extension buys 2,158 h for half
        // the price per hour. Time served inside the first purchase pays the same either way.
        let before = one(2, 1_000_000);
        let after = vec![
            Purchase {
                hours: 2,
                amount: 1_000_000,
            },
            Purchase {
                hours: 2_158,
                amount: 539_500_000,
            },
        ];
        for served in [0u64, 1, 3_600, 7_199, 7_200] {
            let a = settle(before.clone(), served, &SOL).unwrap();
            let b = settle(after.clone(), served, &SOL).unwrap();
            assert_eq!((a.provider, a.fee), (b.provider, b.fee), "served {served}");
            assert_eq!(
                b.refund,
                a.refund + 539_500_000,
                "the extension comes back whole"
            );
        }
        // served time past the first purchase is paid at the extension's own price
        let s = settle(after, 7_200 + 3_600, &SOL).unwrap();
        assert_eq!(s.provider + s.fee, 1_000_000 + 250_000);
    }

    #[test]
    fn calor_providers_get_the_market_value_and_the_vault_funds_subsidy_and_burn() {
        // the worked example of docs/economics.md: 4 h at $2.50, Calor at $0.25, 50% subsidy,
        // 5% fee (half to stakers), 20% burn: the renter pays 20 Calor
        let terms = SettleTerms {
            fee_bps: 500,
            burn_bps: 2_000,
            subsidy_bps: 5_000,
            staker_share_bps: 5_000,
        };
        let calor = 1_000_000u64;
        let v = PurchaseValue::of(20 * calor, &terms).unwrap();
        assert_eq!(
            (v.market, v.subsidy, v.burn),
            (40 * calor, 20 * calor, 8 * calor)
        );
        let full = settle(one(4, 20 * calor), 4 * 3_600, &terms).unwrap();
        assert_eq!(full.provider, 38 * calor, "$9.50, as if paid in SOL");
        assert_eq!(full.fee, 2 * calor);
        assert_eq!(full.staker_rewards, calor);
        assert_eq!(full.burned, 8 * calor);
        assert_eq!(full.refund, 0);
        assert_eq!(full.subsidy_drawn, 28 * calor);
        assert_eq!(full.reserved, 28 * calor);
        let one_hour = settle(one(4, 20 * calor), 3_600, &terms).unwrap();
        assert_eq!(one_hour.provider, 9_500_000);
        assert_eq!(one_hour.burned, 2 * calor);
        assert_eq!(one_hour.refund, 15 * calor);
        assert_eq!(one_hour.subsidy_drawn, 7 * calor);
        assert_eq!(subsidy_for(1, 10_000), Err(MathError::Overflow));
    }

    #[test]
    fn posted_prices_move_at_most_the_hourly_limit() {
        // 10% per hour
        assert!(price_move_allowed(0, 123, 0, 1_000));
        assert!(price_move_allowed(1_000_000, 1_100_000, 3_600, 1_000));
        assert!(!price_move_allowed(1_000_000, 1_100_001, 3_600, 1_000));
        assert!(price_move_allowed(1_000_000, 950_000, 1_800, 1_000));
        assert!(!price_move_allowed(1_000_000, 949_999, 1_800, 1_000));
        assert!(!price_move_allowed(1_000_000, 1_000_001, 0, 1_000));
        assert!(price_move_allowed(1_000_000, 1_000_000, 0, 1_000));
        // a long silence allows a proportionally larger move
        assert!(price_move_allowed(1_000_000, 3_000_000, 20 * 3_600, 1_000));
    }
}
