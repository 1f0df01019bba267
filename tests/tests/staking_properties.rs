//! Property test: random stake, add, unstake, claim, reward and epoch steps. After every
//! step the stake vault holds exactly the pool's total stake (and the sum of all stakes),
//! no token is created or lost, and rewards paid never exceed rewards received.
//! `CALOR_STAKING_SEQUENCES` (default 500) and `CALOR_PROP_SEED` reproduce a run.
use calor::errors::CalorError;
use calor_client::pda;
use calor_tests::fixtures::CALOR;
use calor_tests::market::Market;
use calor_tests::outcome::{Outcome, OutcomeExt};
use calor_tests::rng::Rng;
use calor_tests::spl;
use calor_tests::staking::Staker;

struct World {
    m: Market,
    stakers: Vec<Staker>,
    /// What the stakers held before the sequence.
    wallets_start: u64,
    /// Rewards put into the vault so far.
    received: u64,
}

impl World {
    fn new(base: &Market, stakers: &[Staker]) -> Self {
        let m = base.fork();
        let stakers: Vec<Staker> = stakers
            .iter()
            .map(|s| Staker {
                keypair: s.keypair.insecure_clone(),
                token: s.token,
            })
            .collect();
        let wallets_start = stakers.iter().map(|s| spl::balance(&m.env, &s.token)).sum();
        Self {
            m,
            stakers,
            wallets_start,
            received: 0,
        }
    }

    fn staked(&self, i: usize) -> u64 {
        let key = pda::stake(&self.stakers[i].key());
        match self.m.env.account(&key) {
            Some(_) => self.m.stake_of(&self.stakers[i].key()).total(),
            None => 0,
        }
    }

    fn step(&mut self, rng: &mut Rng) -> String {
        let i = rng.below(self.stakers.len() as u64) as usize;
        let s = Staker {
            keypair: self.stakers[i].keypair.insecure_clone(),
            token: self.stakers[i].token,
        };
        match rng.below(7) {
            0 | 1 => {
                let amount = 1 + rng.below(1_000 * CALOR);
                self.m.try_stake(&s, amount).expect_ok("stake");
                "stake".into()
            }
            2 => {
                let staked = self.staked(i);
                let amount = 1 + rng.below(staked + staked / 4 + 1);
                let out = self.m.try_unstake(&s, amount);
                if staked == 0 {
                    out.expect_err("unstake without a stake");
                    "unstake (no stake)".into()
                } else if amount > staked {
                    out.expect_calor_err(CalorError::InsufficientStake);
                    "unstake (too much)".into()
                } else {
                    out.expect_ok("unstake");
                    "unstake".into()
                }
            }
            3 => claim(&mut self.m, &s),
            4 => {
                let amount = rng.below(5_000_000);
                if amount > 0 {
                    self.m.fund_rewards(amount);
                    self.received += amount;
                }
                "rewards".into()
            }
            5 => {
                self.m.advance_epoch().expect_ok("advance");
                "advance epoch".into()
            }
            _ => {
                self.m.env.advance_secs(rng.below(43_200) as i64);
                "warp".into()
            }
        }
    }

    fn check(&self, what: &str) {
        let env = &self.m.env;
        let pool = self.m.pool();
        let vault = spl::balance(env, &pda::stake_vault());
        let stakes: u64 = (0..self.stakers.len()).map(|i| self.staked(i)).sum();
        assert_eq!(
            pool.total_stake(),
            vault,
            "after {what}: pool total = vault"
        );
        assert_eq!(stakes, vault, "after {what}: sum of stakes = vault");
        let rewards = spl::balance(env, &pda::rewards_vault());
        assert!(
            pool.rewards_claimed <= pool.rewards_distributed
                && pool.rewards_distributed <= self.received,
            "after {what}: claimed ≤ distributed ≤ received"
        );
        assert_eq!(
            rewards,
            self.received - pool.rewards_claimed,
            "after {what}"
        );
        assert!(
            pool.reserved_rewards <= rewards,
            "after {what}: owed ≤ held"
        );
        let wallets: u64 = self
            .stakers
            .iter()
            .map(|s| spl::balance(env, &s.token))
            .sum();
        assert_eq!(
            wallets + vault,
            self.wallets_start + pool.rewards_claimed,
            "after {what}: no token created or lost"
        );
    }

    /// One more epoch, then everyone claims: what was distributed is paid but for rounding
    /// dust (at most one base unit per staker per epoch).
    fn finish(&mut self) -> u64 {
        self.m.advance_epoch().expect_ok("final advance");
        for i in 0..self.stakers.len() {
            let s = Staker {
                keypair: self.stakers[i].keypair.insecure_clone(),
                token: self.stakers[i].token,
            };
            claim(&mut self.m, &s);
        }
        self.check("final claims");
        let pool = self.m.pool();
        let dust = pool.rewards_distributed - pool.rewards_claimed;
        let bound = (pool.epoch + 1) * self.stakers.len() as u64;
        assert!(dust <= bound, "dust {dust} above {bound}");
        pool.rewards_claimed
    }
}

fn claim(m: &mut Market, s: &Staker) -> String {
    let out: Outcome = m.try_claim_rewards(s);
    match out {
        Ok(_) => "claim".into(),
        Err(f) if f.custom_code() == Some(CalorError::NothingToClaim.into()) => {
            "claim (nothing)".into()
        }
        Err(_) if m.env.account(&pda::stake(&s.key())).is_none() => "claim (no stake)".into(),
        Err(f) => panic!("claim failed: {f:?}"),
    }
}

#[test]
fn stake_vault_and_rewards_balance_under_random_sequences() {
    let sequences: u64 = std::env::var("CALOR_STAKING_SEQUENCES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let seed: u64 = std::env::var("CALOR_PROP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x57A4_E5EE);
    let mut base = Market::new();
    let stakers: Vec<Staker> = (0..3).map(|_| base.staker()).collect();
    let (mut steps, mut paid) = (0usize, 0u64);
    for n in 0..sequences {
        let mut rng = Rng(seed ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut w = World::new(&base, &stakers);
        for _ in 0..(10 + rng.below(30)) {
            let what = w.step(&mut rng);
            w.check(&what);
            steps += 1;
        }
        paid += w.finish();
    }
    println!("{sequences} sequences, {steps} steps, {paid} reward units paid");
    assert!(paid > 0, "the sequences exercised reward payouts");
}
