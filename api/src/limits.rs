//! Request rate limits: per client address for every call, per wallet for signed-in calls
//! (GCRA token buckets from `governor`, in memory: each replica limits what reaches it).
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub per_minute: NonZeroU32,
    /// How many calls may come at once before the rate applies.
    pub burst: NonZeroU32,
}

impl Rate {
    fn quota(self) -> Quota {
        Quota::per_minute(self.per_minute).allow_burst(self.burst)
    }
}

/// A refused call: when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: Duration,
    pub per_minute: u32,
}

pub struct Limits {
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    per_wallet: DefaultKeyedRateLimiter<String>,
    address_rate: Rate,
    wallet_rate: Rate,
}

impl Limits {
    pub fn new(per_address: Rate, per_wallet: Rate) -> Self {
        Self {
            per_address: DefaultKeyedRateLimiter::keyed(per_address.quota()),
            per_wallet: DefaultKeyedRateLimiter::keyed(per_wallet.quota()),
            address_rate: per_address,
            wallet_rate: per_wallet,
        }
    }

    pub fn address(&self, ip: IpAddr) -> Result<(), Limited> {
        let rate = self.address_rate;
        self.per_address
            .check_key(&ip)
            .map_err(|not_until| limited(&not_until, rate))
    }

    pub fn wallet(&self, wallet: &str) -> Result<(), Limited> {
        let rate = self.wallet_rate;
        self.per_wallet
            .check_key(&wallet.to_string())
            .map_err(|not_until| limited(&not_until, rate))
    }

    /// Forgets clients whose buckets are full again (bounded memory under many addresses).
    pub fn prune(&self) {
        self.per_address.retain_recent();
        self.per_wallet.retain_recent();
    }
}

fn limited(
    not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>,
    rate: Rate,
) -> Limited {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    Limited {
        // whole seconds, at least one: Retry-After has no fractions
        retry_after: Duration::from_secs(wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            .max(Duration::from_secs(1)),
        per_minute: rate.per_minute.get(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(per_minute: u32, burst: u32) -> Rate {
        Rate {
            per_minute: NonZeroU32::new(per_minute).unwrap(),
            burst: NonZeroU32::new(burst).unwrap(),
        }
    }

    #[test]
    fn a_burst_then_the_rate_per_client() {
        let limits = Limits::new(rate(60, 3), rate(60, 2));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert!(limits.address(a).is_ok());
        }
        let refused = limits.address(a).unwrap_err();
        assert_eq!(refused.per_minute, 60);
        assert!(refused.retry_after >= Duration::from_secs(1));
        assert!(refused.retry_after <= Duration::from_secs(2));
        assert!(limits.address(b).is_ok(), "another client is not limited");
        assert!(limits.wallet("w1").is_ok() && limits.wallet("w1").is_ok());
        assert!(limits.wallet("w1").is_err());
        assert!(limits.wallet("w2").is_ok());
        limits.prune();
    }
}
