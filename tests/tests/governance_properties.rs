//! Property test: random stake, unstake, propose, vote, execute and epoch steps at random
//! times. A model of every staker's deposits (by epoch, withdrawals taking the newest first)
//! checks that no vote ever weighs more than the voter's stake seasoned before the proposal's
//! epoch (deposited two epochs earlier), that no stake leaves while a vote or proposal holds
//! it, and that every executed proposal reached its quorum with seasoned votes alone.
//! `CALOR_GOVERNANCE_SEQUENCES` (default 400) and `CALOR_PROP_SEED` reproduce a run.
use calor::events::VoteCast;
use calor::state::{Proposal, ProposalAction};
use calor_client::pda;
use calor_tests::fixtures::CALOR;
use calor_tests::market::Market;
use calor_tests::outcome::OutcomeExt;
use calor_tests::rng::Rng;
use calor_tests::staking::Staker;

/// What the test believes each staker holds: deposits as (epoch, amount), oldest first.
#[derive(Default, Clone)]
struct Model {
    deposits: Vec<(u64, u64)>,
    locked_until: i64,
}

impl Model {
    fn total(&self) -> u64 {
        self.deposits.iter().map(|d| d.1).sum()
    }
    fn seasoned(&self, proposal_epoch: u64) -> u64 {
        self.deposits
            .iter()
            .filter(|d| d.0 + 2 <= proposal_epoch)
            .map(|d| d.1)
            .sum()
    }
    fn withdraw(&mut self, mut amount: u64) {
        while amount > 0 {
            let last = self.deposits.last_mut().unwrap();
            let take = amount.min(last.1);
            last.1 -= take;
            amount -= take;
            if last.1 == 0 {
                self.deposits.pop();
            }
        }
    }
}

struct World {
    m: Market,
    stakers: Vec<Staker>,
    models: Vec<Model>,
    /// Every vote cast: (proposal id, voter index, weight, approve).
    votes: Vec<(u64, usize, u64, bool)>,
    executed: usize,
    log: Vec<String>,
}

impl World {
    fn staker(&self, i: usize) -> Staker {
        Staker {
            keypair: self.stakers[i].keypair.insecure_clone(),
            token: self.stakers[i].token,
        }
    }

    fn step(&mut self, rng: &mut Rng) {
        let i = rng.below(self.stakers.len() as u64) as usize;
        let s = self.staker(i);
        let now = self.m.env.clock().unix_timestamp;
        let epoch = self.m.pool().epoch;
        match rng.below(9) {
            0 | 1 => {
                let amount = 1 + rng.below(40_000 * CALOR);
                if self.m.try_stake(&s, amount).is_ok() {
                    self.models[i].deposits.push((epoch, amount));
                    self.log
                        .push(format!("stake {i} {amount} in epoch {epoch}"));
                }
            }
            2 => {
                let total = self.models[i].total();
                if total == 0 {
                    return;
                }
                let amount = 1 + rng.below(total);
                let ok = self.m.try_unstake(&s, amount).is_ok();
                self.log.push(format!("unstake {i} {amount}: {ok}"));
                if ok {
                    assert!(
                        now >= self.models[i].locked_until,
                        "stake left while a vote held it\n{}",
                        self.log.join("\n")
                    );
                    self.models[i].withdraw(amount);
                }
            }
            3 => {
                let action = ProposalAction::SetProviderApproval {
                    provider: self.m.operator.provider,
                    approved: rng.below(2) == 0,
                };
                let (id, out) = self.m.try_propose(&s, action);
                if out.is_ok() {
                    let p: Proposal = self.m.env.decode(&pda::proposal(id));
                    let seasoned = self.models[i].seasoned(p.created_epoch);
                    assert!(
                        seasoned >= self.m.config().params.staking.min_stake_to_propose,
                        "a proposal from stake younger than an epoch\n{}",
                        self.log.join("\n")
                    );
                    self.models[i].locked_until = self.models[i].locked_until.max(p.voting_ends_at);
                    self.log.push(format!("propose {i}: {id}"));
                }
            }
            4 | 5 => {
                let count = self.m.pool().proposal_count;
                if count == 0 {
                    return;
                }
                let id = rng.below(count);
                let approve = rng.below(3) != 0;
                if let Ok(tx) = self.m.try_vote(&s, id, approve) {
                    let weight = tx.events::<VoteCast>()[0].weight;
                    let p: Proposal = self.m.env.decode(&pda::proposal(id));
                    // never more than the seasoned stake (the on-chain ledger folds deposits
                    // older than its last four epochs conservatively, so it may count less)
                    assert!(
                        weight <= self.models[i].seasoned(p.created_epoch),
                        "vote weight above the voter's seasoned stake\n{}",
                        self.log.join("\n")
                    );
                    self.models[i].locked_until = self.models[i].locked_until.max(p.voting_ends_at);
                    self.votes.push((id, i, weight, approve));
                    self.log.push(format!("vote {i} on {id}: {weight}"));
                }
            }
            6 => {
                let count = self.m.pool().proposal_count;
                if count == 0 {
                    return;
                }
                let id = rng.below(count);
                if self
                    .m
                    .try_execute(id, Some(self.m.operator.provider))
                    .is_ok()
                {
                    let p: Proposal = self.m.env.decode(&pda::proposal(id));
                    // recount the votes from the model: only seasoned stake
                    let (mut yes, mut no) = (0u64, 0u64);
                    for &(pid, _, weight, approve) in &self.votes {
                        if pid == id {
                            *(if approve { &mut yes } else { &mut no }) += weight;
                        }
                    }
                    assert_eq!((yes, no), (p.votes_for, p.votes_against));
                    assert!(yes > no);
                    assert!(
                        u128::from(yes + no) * 10_000
                            >= u128::from(p.snapshot_total_stake) * u128::from(p.quorum_bps)
                    );
                    self.executed += 1;
                    self.log.push(format!("execute {id}"));
                }
            }
            7 => {
                let secs = [600, 3_600, 43_200, 86_400, 3 * 86_400][rng.below(5) as usize];
                self.m.env.advance_secs(secs);
                self.log.push(format!("warp +{secs}s"));
            }
            _ => {
                if self.m.advance_epoch().is_ok() {
                    self.log.push(format!("epoch {} ended", epoch));
                }
            }
        }
    }
}

#[test]
fn no_proposal_passes_with_stake_younger_than_an_epoch() {
    let sequences: u64 = std::env::var("CALOR_GOVERNANCE_SEQUENCES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    let seed: u64 = std::env::var("CALOR_PROP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x60_7E4A);
    // four stakers who already hold seasoned stake (deposited in epoch 0), so proposals and
    // votes happen from the first step
    let mut base = Market::new();
    let stakers: Vec<Staker> = (0..4).map(|_| base.staker()).collect();
    let starting = [2_000, 10_000, 30_000, 60_000].map(|c| c * CALOR);
    for (s, amount) in stakers.iter().zip(starting) {
        base.try_stake(s, amount).expect_ok("stake");
    }
    base.advance_epoch().expect_ok("advance");
    base.advance_epoch().expect_ok("advance");
    let (mut votes, mut executed) = (0usize, 0usize);
    for n in 0..sequences {
        let mut rng = Rng(seed ^ n.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut w = World {
            m: base.fork(),
            stakers: stakers
                .iter()
                .map(|s| Staker {
                    keypair: s.keypair.insecure_clone(),
                    token: s.token,
                })
                .collect(),
            models: starting
                .iter()
                .map(|&amount| Model {
                    deposits: vec![(0, amount)],
                    locked_until: 0,
                })
                .collect(),
            votes: Vec::new(),
            executed: 0,
            log: Vec::new(),
        };
        for _ in 0..(20 + rng.below(40)) {
            w.step(&mut rng);
        }
        // the on-chain ledger agrees with the model
        for (i, model) in w.models.iter().enumerate() {
            let key = w.stakers[i].key();
            if w.m.env.account(&pda::stake(&key)).is_some() {
                assert_eq!(w.m.stake_of(&key).total(), model.total());
            }
        }
        votes += w.votes.len();
        executed += w.executed;
    }
    println!("{sequences} sequences: {votes} votes cast, {executed} proposals executed");
    assert!(
        votes > 0 && executed > 0,
        "the sequences reached votes and executions"
    );
}
