//! Property test: random sequences of instructions (valid and invalid) with clock warps and
//! moving SOL and Calor prices against the real program. After every step, no lamport or
//! token is created or lost, everything escrowed plus what the subsidy vault added equals
//! payouts + fees + burned + refunds + what is still escrowed, the subsidy vault holds at
//! least what it reserved for live rentals (exactly the sum of their purchases' reservations),
//! each settlement equals the host's per-purchase settlement of the rental as it stood, and
//! each party's balance moved exactly as the settlement events say. After final expiry and
//! settlement nothing is left stranded.
//!
//! `CALOR_PROP_SEQUENCES` (default 1000) and `CALOR_PROP_SEED` reproduce a run.
use anchor_lang::prelude::Pubkey;
use calor::events::{RentalExtended, RentalOpened, RentalSettled};
use calor::instructions::{ExtendArgs, OpenRentalArgs};
use calor::math::{self, PurchaseValue};
use calor::state::{PaymentKind, RentalState, SubsidyPool};
use calor_client::instructions::{self as ix, CalorPayouts, SettleParties};
use calor_client::{pda, Instruction};
use calor_tests::market::{Market, OperatorHandle, EU_WEST, H100_SXM, RATE, US_EAST};
use calor_tests::outcome::Success;
use calor_tests::pyth::PythPrice;
use calor_tests::rng::Rng;
use calor_tests::spl;
use solana_keypair::Keypair;
use solana_signer::Signer;

struct Live {
    address: Pubkey,
    renter: usize,
    kind: PaymentKind,
}

#[derive(Default, Debug, Clone, Copy)]
struct Ledger {
    paid_in: u64,
    /// Added by the subsidy vault (Calor only).
    subsidy_drawn: u64,
    provider: u64,
    fee: u64,
    burned: u64,
    refund: u64,
}

struct World {
    m: Market,
    cranker: Keypair,
    renters: Vec<(Keypair, Pubkey)>,
    ops: Vec<OperatorHandle>,
    live: Vec<Live>,
    next_id: u64,
    sol: Ledger,
    calor: Ledger,
    lamports_at_start: u64,
    tokens_at_start: u64,
    supply_at_start: u64,
    provider_lamports_at_start: u64,
    config_lamports_at_start: u64,
    vault_at_start: u64,
    /// The posted Calor/USD rate (moves at most 10% per hour).
    calor_price: u64,
    log: Vec<String>,
}

impl World {
    fn new(base: &Market, second_operator: &OperatorHandle) -> Self {
        let mut m = base.fork();
        let cranker = m.env.funded_keypair();
        let renters = (0..3).map(|_| m.renter()).collect();
        let ops = vec![m.operator.fork(), second_operator.fork()];
        let mut w = Self {
            m,
            cranker,
            renters,
            ops,
            live: Vec::new(),
            next_id: 1,
            sol: Ledger::default(),
            calor: Ledger::default(),
            lamports_at_start: 0,
            tokens_at_start: 0,
            supply_at_start: 0,
            provider_lamports_at_start: 0,
            config_lamports_at_start: 0,
            vault_at_start: 0,
            calor_price: calor_tests::market::CALOR_USD_MICRO,
            log: Vec::new(),
        };
        w.lamports_at_start = w.tracked_lamports();
        w.tokens_at_start = w.tracked_tokens();
        w.supply_at_start = spl::mint(&w.m.env, &w.m.protocol.calor_mint).supply;
        w.provider_lamports_at_start = w.provider_lamports();
        w.config_lamports_at_start = w.m.env.lamports(&pda::config().0);
        w.vault_at_start = spl::balance(&w.m.env, &pda::subsidy_vault());
        w
    }

    fn send(
        &mut self,
        what: String,
        ixs: &[Instruction],
        signer: Option<&Keypair>,
    ) -> Option<Success> {
        let signers: Vec<&Keypair> = signer.into_iter().collect();
        let cranker = self.cranker.insecure_clone();
        // what a settlement must pay, from the rental as it stands before it
        let expected: Vec<(Pubkey, math::Settlement)> = self
            .live
            .iter()
            .filter(|l| {
                ixs.iter()
                    .any(|i| i.accounts.iter().any(|a| a.pubkey == l.address))
            })
            .filter_map(|l| {
                let r = self.m.rental(&l.address);
                let staker_share = self.m.config().params.staking.staker_fee_share_bps;
                let terms = calor::instructions::settle_terms(
                    &r,
                    match l.kind {
                        PaymentKind::Sol => 0,
                        PaymentKind::Calor => staker_share,
                    },
                );
                math::settle(r.purchases(), u64::from(r.served_secs), &terms)
                    .ok()
                    .map(|s| (l.address, s))
            })
            .collect();
        let outcome = self.m.env.send(ixs, &cranker, &signers);
        let result = match &outcome {
            Ok(_) => "ok".to_string(),
            Err(f) => format!("{:?}", f.err),
        };
        self.log.push(format!("{what}: {result}"));
        let ok = outcome.ok()?;
        for e in ok.events::<RentalOpened>() {
            self.ledger(e.payment).paid_in += e.escrowed;
        }
        for e in ok.events::<RentalExtended>() {
            let kind = self
                .live
                .iter()
                .find(|l| l.address == e.rental)
                .expect("extended a live rental")
                .kind;
            self.ledger(kind).paid_in += e.added_escrow;
        }
        for e in ok.events::<RentalSettled>() {
            let (_, want) = expected
                .iter()
                .find(|(a, _)| *a == e.rental)
                .expect("settled a live rental");
            assert_eq!(
                (
                    e.provider_amount,
                    e.fee,
                    e.staker_rewards,
                    e.burned,
                    e.subsidy_drawn
                ),
                (
                    want.provider,
                    want.fee,
                    want.staker_rewards,
                    want.burned,
                    want.subsidy_drawn
                ),
                "settlement differs from the per-purchase settlement\n{}",
                self.log.join("\n")
            );
            assert!(!e.refund_held, "every renter account here can receive");
            let l = self.ledger(e.payment);
            l.provider += e.provider_amount;
            l.fee += e.fee;
            l.burned += e.burned;
            l.refund += e.refund;
            l.subsidy_drawn += e.subsidy_drawn;
            self.live.retain(|r| r.address != e.rental);
        }
        Some(ok)
    }

    fn ledger(&mut self, kind: PaymentKind) -> &mut Ledger {
        match kind {
            PaymentKind::Sol => &mut self.sol,
            PaymentKind::Calor => &mut self.calor,
        }
    }

    fn provider_lamports(&self) -> u64 {
        self.ops
            .iter()
            .map(|o| self.m.env.lamports(&o.provider))
            .sum()
    }

    /// Lamports of every account money moves between (fee payers excluded).
    fn tracked_lamports(&self) -> u64 {
        let env = &self.m.env;
        let renters: u64 = self
            .renters
            .iter()
            .map(|(k, _)| env.lamports(&k.pubkey()))
            .sum();
        let rentals: u64 = self
            .live
            .iter()
            .map(|l| env.lamports(&l.address) + env.lamports(&pda::escrow(&l.address)))
            .sum();
        renters + rentals + self.provider_lamports() + env.lamports(&pda::config().0)
    }

    fn tracked_tokens(&self) -> u64 {
        let env = &self.m.env;
        let mut total = spl::balance(env, &self.m.treasury_token)
            + spl::balance(env, &pda::rewards_vault())
            + spl::balance(env, &pda::subsidy_vault());
        total += self
            .renters
            .iter()
            .map(|(_, t)| spl::balance(env, t))
            .sum::<u64>();
        total += self
            .ops
            .iter()
            .map(|o| spl::balance(env, &o.payout_token))
            .sum::<u64>();
        total
            + self
                .live
                .iter()
                .filter(|l| l.kind == PaymentKind::Calor)
                .map(|l| spl::balance(env, &pda::escrow(&l.address)))
                .sum::<u64>()
    }

    fn check(&self) {
        let env = &self.m.env;
        let ctx = || self.log.join("\n");
        assert_eq!(
            self.tracked_lamports(),
            self.lamports_at_start,
            "lamports created or lost\n{}",
            ctx()
        );
        assert_eq!(
            self.tracked_tokens() + self.calor.burned,
            self.tokens_at_start,
            "tokens created or lost\n{}",
            ctx()
        );
        assert_eq!(
            spl::mint(env, &self.m.protocol.calor_mint).supply,
            self.supply_at_start - self.calor.burned
        );
        let (mut sol_held, mut calor_held) = (0u64, 0u64);
        for l in &self.live {
            let r = self.m.rental(&l.address);
            let held = match l.kind {
                PaymentKind::Sol => {
                    let account = env.account(&l.address).unwrap();
                    account.lamports - env.rent_exempt(account.data.len())
                }
                PaymentKind::Calor => spl::balance(env, &pda::escrow(&l.address)),
            };
            assert_eq!(
                held,
                r.escrowed,
                "escrow of {} differs from its record\n{}",
                l.address,
                ctx()
            );
            match l.kind {
                PaymentKind::Sol => sol_held += held,
                PaymentKind::Calor => calor_held += held,
            }
        }
        for (l, held) in [(&self.sol, sol_held), (&self.calor, calor_held)] {
            assert_eq!(
                l.paid_in + l.subsidy_drawn,
                l.provider + l.fee + l.burned + l.refund + held,
                "escrow identity {l:?}\n{}",
                ctx()
            );
        }
        // the subsidy vault: paid out what it drew, kept the Calor fees, and still covers
        // every reservation of the live rentals
        let vault = spl::balance(env, &pda::subsidy_vault());
        assert_eq!(
            vault + self.calor.subsidy_drawn,
            self.vault_at_start + self.calor.fee,
            "subsidy vault\n{}",
            ctx()
        );
        let pool: SubsidyPool = env.decode(&pda::subsidy_pool());
        let reserved: u64 = self
            .live
            .iter()
            .filter(|l| l.kind == PaymentKind::Calor)
            .map(|l| {
                let r = self.m.rental(&l.address);
                let terms = calor::instructions::settle_terms(&r, 0);
                r.purchases()
                    .map(|p| {
                        PurchaseValue::of(p.amount, &terms)
                            .unwrap()
                            .reservation()
                            .unwrap()
                    })
                    .sum::<u64>()
            })
            .sum();
        assert_eq!(pool.reserved, reserved, "reservations\n{}", ctx());
        assert!(vault >= pool.reserved + pool.staker_rewards_owed);
        assert_eq!(
            self.provider_lamports() - self.provider_lamports_at_start,
            self.sol.provider
        );
        assert_eq!(
            env.lamports(&pda::config().0) - self.config_lamports_at_start,
            self.sol.fee
        );
        let payouts: u64 = self
            .ops
            .iter()
            .map(|o| spl::balance(env, &o.payout_token))
            .sum();
        assert_eq!(payouts, self.calor.provider);
    }

    fn pick_live(&mut self, rng: &mut Rng) -> Option<usize> {
        (!self.live.is_empty()).then(|| rng.below(self.live.len() as u64) as usize)
    }

    fn node_of(&self, address: &Pubkey) -> Option<(usize, u32, Pubkey)> {
        let node = self.m.rental(address).node()?;
        self.ops
            .iter()
            .position(|o| o.node(0) == node)
            .map(|i| (i, 0, node))
    }

    fn step(&mut self, rng: &mut Rng) {
        match rng.below(16) {
            0 | 1 => self.open(rng),
            2 => {
                let secs = [1, 59, 300, 301, 900, 1_800, 3_600, 7_200][rng.below(8) as usize];
                self.m.env.advance_secs(secs);
                self.log.push(format!("warp +{secs}s"));
            }
            3 => self.refresh_prices(rng),
            4 => {
                let i = rng.below(2) as usize;
                let op = self.ops[i].authority.insecure_clone();
                self.send(
                    format!("heartbeat op{i}"),
                    &[ix::node_heartbeat(op.pubkey(), 0)],
                    Some(&op),
                );
            }
            action => {
                let Some(idx) = self.pick_live(rng) else {
                    return;
                };
                let (address, renter_idx, kind) = {
                    let l = &self.live[idx];
                    (l.address, l.renter, l.kind)
                };
                let renter = self.renters[renter_idx].0.insecure_clone();
                let renter_token = self.renters[renter_idx].1;
                let op_idx = rng.below(2) as usize;
                let op = self.ops[op_idx].authority.insecure_clone();
                let serving = self.node_of(&address);
                let name = format!("{address:.8}");
                // three times in four, an action that fits the rental's state
                let action = if rng.below(4) == 0 {
                    action
                } else {
                    let fitting: &[u64] = match self.m.rental(&address).state() {
                        RentalState::Queued => &[5, 11],
                        RentalState::Provisioning => &[7, 9, 11],
                        RentalState::Running => &[10, 12, 13, 14],
                        _ => &[15],
                    };
                    fitting[rng.below(fitting.len() as u64) as usize]
                };
                match action {
                    5 | 6 => {
                        self.send(
                            format!("claim {name} op{op_idx}"),
                            &[ix::claim(op.pubkey(), 0, address)],
                            Some(&op),
                        );
                    }
                    7 | 8 => {
                        // mostly the serving provider, sometimes the other one
                        let op = match serving {
                            Some((i, _, _)) if rng.below(4) != 0 => {
                                self.ops[i].authority.insecure_clone()
                            }
                            _ => op,
                        };
                        self.send(
                            format!("start {name}"),
                            &[ix::start(op.pubkey(), 0, address)],
                            Some(&op),
                        );
                    }
                    9 => {
                        self.send(
                            format!("fail {name} op{op_idx}"),
                            &[ix::fail(op.pubkey(), 0, address)],
                            Some(&op),
                        );
                    }
                    10 => {
                        let Some((i, _, node)) = serving else { return };
                        let by_renter = rng.below(2) == 0;
                        let signer = if by_renter {
                            renter.insecure_clone()
                        } else {
                            self.ops[i].authority.insecure_clone()
                        };
                        self.send(
                            format!("complete {name}"),
                            &[ix::complete(signer.pubkey(), address, node)],
                            Some(&signer),
                        );
                    }
                    11 => {
                        let node = serving.map(|s| s.2);
                        self.send(
                            format!("cancel {name}"),
                            &[ix::cancel(renter.pubkey(), address, node)],
                            Some(&renter),
                        );
                    }
                    12 => {
                        let Some((_, _, node)) = serving else { return };
                        // half the time, jump to (or just short of) the end of the paid time
                        let ends_at = self.m.rental(&address).ends_at;
                        let now = self.m.env.clock().unix_timestamp;
                        if ends_at > now && rng.below(2) == 0 {
                            let short = rng.below(2) as i64;
                            self.m.env.advance_secs(ends_at - now - short);
                            self.log.push(format!("warp to end -{short}s"));
                        }
                        self.send(format!("expire {name}"), &[ix::expire(address, node)], None);
                    }
                    14 => {
                        let Some((_, _, node)) = serving else { return };
                        if rng.below(2) == 0 {
                            self.m.env.advance_secs(301);
                            self.log.push("warp +301s".into());
                        }
                        self.send(
                            format!("reclaim {name}"),
                            &[ix::reclaim(renter.pubkey(), address, node)],
                            Some(&renter),
                        );
                    }
                    13 => {
                        if rng.below(2) == 0 {
                            self.refresh_prices(rng);
                        }
                        let hours = 1 + rng.below(3) as u32;
                        let args = ExtendArgs {
                            hours,
                            max_payment: self.max_payment(rng),
                        };
                        let extend = match kind {
                            PaymentKind::Sol => {
                                ix::extend_sol(renter.pubkey(), address, self.m.price_update, args)
                            }
                            PaymentKind::Calor => ix::extend_calor(
                                renter.pubkey(),
                                address,
                                self.m.protocol.calor_mint,
                                renter_token,
                                self.m.protocol.token_program.id(),
                                args,
                            ),
                        };
                        self.send(format!("extend {name} +{hours}h"), &[extend], Some(&renter));
                    }
                    _ => self.settle(address),
                }
            }
        }
    }

    /// A fresh SOL price between $75 and $300, and a Calor rate moved by up to the allowed
    /// 10% per hour since the last post (sometimes a little more, which is refused).
    fn refresh_prices(&mut self, rng: &mut Rng) {
        let now = self.m.env.clock().unix_timestamp;
        let cents = [7_500, 12_000, 15_000, 15_000, 30_000][rng.below(5) as usize];
        self.m.set_sol_price(&PythPrice::sol_usd(cents, 10, now));
        self.log.push(format!("SOL/USD {cents}c"));
        let config = self.m.config();
        let elapsed = (now - config.calor_price_posted_at).max(0) as u64;
        let old = self.calor_price;
        let allowed = old * 1_000 * elapsed.min(36_000) / (10_000 * 3_600);
        let step = rng.below(allowed + 2);
        let new = if rng.below(2) == 0 {
            old + step
        } else {
            old.saturating_sub(step).max(100)
        };
        let admin = self.m.authority.insecure_clone();
        if self
            .send(
                format!("post calor price {new}"),
                &[ix::post_calor_price(admin.pubkey(), new)],
                Some(&admin),
            )
            .is_some()
        {
            self.calor_price = new;
        }
    }

    /// No cap most of the time, sometimes one just around the expected payment.
    fn max_payment(&self, rng: &mut Rng) -> u64 {
        match rng.below(8) {
            0 => 10_000_000,
            1 => 30_000_000,
            _ => u64::MAX,
        }
    }

    fn open(&mut self, rng: &mut Rng) {
        if rng.below(2) == 0 {
            self.refresh_prices(rng);
        }
        let r = rng.below(self.renters.len() as u64) as usize;
        let (renter, token) = (self.renters[r].0.insecure_clone(), self.renters[r].1);
        let id = self.next_id;
        self.next_id += 1;
        let kind = if rng.below(2) == 0 {
            PaymentKind::Sol
        } else {
            PaymentKind::Calor
        };
        let hours = match kind {
            PaymentKind::Sol => 2 + rng.below(3) as u32,
            PaymentKind::Calor => 4 + rng.below(3) as u32,
        };
        let region = [None, Some(US_EAST), Some(EU_WEST)][rng.below(3) as usize];
        let args = OpenRentalArgs {
            hours,
            region,
            max_payment: self.max_payment(rng),
            ..Market::open_args(id, hours)
        };
        let open = match kind {
            PaymentKind::Sol => {
                ix::open_rental_sol(renter.pubkey(), H100_SXM, self.m.price_update, args)
            }
            PaymentKind::Calor => ix::open_rental_calor(
                renter.pubkey(),
                H100_SXM,
                self.m.protocol.calor_mint,
                token,
                self.m.protocol.token_program.id(),
                args,
            ),
        };
        let address = pda::rental(&renter.pubkey(), id);
        if self
            .send(
                format!("open {kind:?} {hours}h {address:.8}"),
                &[open],
                Some(&renter),
            )
            .is_some()
        {
            self.live.push(Live {
                address,
                renter: r,
                kind,
            });
        }
    }

    fn settle(&mut self, address: Pubkey) {
        let r = self.m.rental(&address);
        let parties = SettleParties::of(&r);
        let settle = match r.payment() {
            PaymentKind::Sol => ix::settle_sol(address, parties),
            PaymentKind::Calor => {
                let renter_token = self
                    .renters
                    .iter()
                    .find(|(k, _)| k.pubkey() == r.renter)
                    .unwrap()
                    .1;
                let provider_token = self
                    .ops
                    .iter()
                    .find(|o| o.payout.pubkey() == r.payee)
                    .map(|o| o.payout_token);
                ix::settle_calor(
                    address,
                    parties,
                    self.m.protocol.calor_mint,
                    self.m.protocol.token_program.id(),
                    CalorPayouts {
                        renter_token,
                        provider_token,
                    },
                )
            }
        };
        self.send(format!("settle {address:.8}"), &[settle], None);
    }

    /// Ends every live rental the way its state allows, then settles it.
    fn finish(&mut self) {
        let admin = self.m.authority.insecure_clone();
        for _ in 0..2 {
            let live: Vec<(Pubkey, usize)> =
                self.live.iter().map(|l| (l.address, l.renter)).collect();
            for (address, r) in live {
                let renter = self.renters[r].0.insecure_clone();
                let state = self.m.rental(&address);
                match state.state() {
                    RentalState::Queued => {
                        self.send(
                            "final cancel".into(),
                            &[ix::cancel(renter.pubkey(), address, None)],
                            Some(&renter),
                        );
                    }
                    RentalState::Provisioning => {
                        let (i, _, _) = self.node_of(&address).unwrap();
                        let op = self.ops[i].authority.insecure_clone();
                        self.send(
                            "final fail".into(),
                            &[ix::fail(op.pubkey(), 0, address)],
                            Some(&op),
                        );
                    }
                    RentalState::Running => {
                        let now = self.m.env.clock().unix_timestamp;
                        if state.ends_at > now {
                            self.m.env.advance_secs(state.ends_at - now);
                        }
                        let node = state.node().unwrap();
                        self.send("final expire".into(), &[ix::expire(address, node)], None);
                    }
                    _ => {}
                }
                self.settle(address);
                self.check();
            }
        }
        let _ = admin;
        assert!(
            self.live.is_empty(),
            "rentals left unsettled\n{}",
            self.log.join("\n")
        );
        self.check();
        // nothing stranded: every rental's refund went back, the rest to providers, treasury, burn
        for l in [&self.sol, &self.calor] {
            assert_eq!(
                l.paid_in + l.subsidy_drawn,
                l.provider + l.fee + l.burned + l.refund
            );
        }
        let pool: SubsidyPool = self.m.env.decode(&pda::subsidy_pool());
        assert_eq!(pool.reserved, 0, "every reservation released");
    }
}

#[test]
fn escrow_conserves_funds_under_random_sequences() {
    let sequences: u64 = std::env::var("CALOR_PROP_SEQUENCES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let seed: u64 = std::env::var("CALOR_PROP_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0xCA10_5EED);
    let mut base = Market::new();
    let second = base.add_operator(EU_WEST);
    base.list_node(&second.authority.insecure_clone(), H100_SXM, EU_WEST, RATE);
    let (mut settled, mut steps_total) = (0usize, 0usize);
    let mut tally: std::collections::BTreeMap<String, (usize, usize)> = Default::default();
    for s in 0..sequences {
        let mut rng = Rng(seed ^ s.wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut w = World::new(&base, &second);
        let steps = 10 + rng.below(20) as usize;
        for _ in 0..steps {
            w.step(&mut rng);
            w.check();
        }
        w.finish();
        settled += w
            .log
            .iter()
            .filter(|l| l.starts_with("settle") || l.starts_with("final"))
            .count();
        steps_total += steps;
        for line in &w.log {
            let (what, result) = line.split_once(": ").unwrap_or((line, "ok"));
            let action = what.split_whitespace().next().unwrap_or(what).to_string();
            let entry = tally.entry(action).or_default();
            if result == "ok" {
                entry.0 += 1
            } else {
                entry.1 += 1
            }
        }
        if s % 250 == 0 {
            println!("sequence {s}: {steps} steps, seed {seed}");
        }
    }
    println!(
        "{sequences} sequences, {steps_total} random steps, {settled} end-of-life transactions"
    );
    for (action, (ok, rejected)) in &tally {
        println!("  {action:<10} {ok:>6} succeeded {rejected:>6} rejected");
    }
    // the sequences must reach every part of the lifecycle, not only its rejections
    for action in [
        "open", "claim", "start", "extend", "complete", "cancel", "fail", "expire", "reclaim",
        "settle",
    ] {
        assert!(
            tally.get(action).is_some_and(|(ok, _)| *ok > 0),
            "no successful {action}"
        );
    }
}
