//! Compute units per instruction of the real calor.so, whole jobs, the `.so` size and rent
//! per rental, printed as tables.
//! Run: cargo bench -p calor-tests --ignore-rust-version --bench compute_units
use calor::instructions::UpdateConfigArgs;
use calor::state::PaymentKind;
use calor_client::{instructions as ix, pda};
use calor_tests::fixtures::{Protocol, CALOR};
use calor_tests::market::{Market, H100_SXM};
use calor_tests::outcome::{OutcomeExt, Success};
use calor_tests::spl::TokenProgram;
use calor_tests::TestEnv;
use solana_keypair::Keypair;
use solana_signer::Signer;

struct Table(Vec<(String, u64, Option<u64>)>);

impl Table {
    fn add(&mut self, name: &str, tx: Success) {
        self.add_cu(name, tx.compute_units);
    }
    fn add_cu(&mut self, name: &str, cu: u64) {
        self.0.push((name.into(), cu, None));
    }
    fn add_target(&mut self, name: &str, cu: u64, target: u64) {
        self.0.push((name.into(), cu, Some(target)));
    }
}

/// The first of a fixed series of keypairs whose stake PDA and vote record on proposal 0 have
/// the canonical bump 255: `stake` and `vote` create those accounts with Anchor's `init`,
/// which searches the bump on-chain (1,500 CU per try), so a random key would make those rows
/// vary from run to run.
fn first_try_owner() -> Keypair {
    use calor::constants::{STAKE_SEED, VOTE_SEED};
    let first_try = |seeds: &[&[u8]]| {
        anchor_lang::prelude::Pubkey::find_program_address(seeds, &calor::ID).1 == u8::MAX
    };
    (0u8..=u8::MAX)
        .map(|n| Keypair::new_from_array([n; 32]))
        .find(|k| {
            let owner = k.pubkey();
            first_try(&[STAKE_SEED, owner.as_ref()])
                && first_try(&[VOTE_SEED, pda::proposal(0).as_ref(), owner.as_ref()])
        })
        .expect("one in four keys qualifies")
}

/// One rental's whole life, transaction by transaction.
struct Job {
    open: u64,
    claim: u64,
    start: u64,
    complete: u64,
    settle: u64,
}

impl Job {
    fn total(&self) -> u64 {
        self.open + self.claim + self.start + self.complete + self.settle
    }
}

/// open → claim → start → 30 minutes → complete (by the renter) → settle, on node 0.
fn job(
    m: &mut Market,
    renter: &Keypair,
    token: anchor_lang::prelude::Pubkey,
    id: u64,
    kind: PaymentKind,
) -> Job {
    let op = m.operator.authority.insecure_clone();
    m.refresh_prices();
    m.heartbeat(&op, 0).expect_ok("heartbeat");
    let open = match kind {
        PaymentKind::Sol => m.try_open_sol(renter, H100_SXM, Market::open_args(id, 2)),
        PaymentKind::Calor => m.try_open_calor(renter, token, H100_SXM, Market::open_args(id, 4)),
    }
    .expect_ok("open");
    if std::env::var("CALOR_PROFILE").is_ok() {
        println!("{}", open.logs.join("\n"));
    }
    let rental = pda::rental(&renter.pubkey(), id);
    let claim = m.provider_op(ix::claim, &op, 0, rental).expect_ok("claim");
    let start = m.provider_op(ix::start, &op, 0, rental).expect_ok("start");
    m.env.advance_secs(1_800);
    let complete = m.complete(renter, &rental).expect_ok("complete");
    let settle = match kind {
        PaymentKind::Sol => m.settle_sol(&rental, &op),
        PaymentKind::Calor => {
            let payout = m.operator.payout_token;
            m.settle_calor(&rental, token, Some(payout), &op)
        }
    }
    .expect_ok("settle");
    if std::env::var("CALOR_PROFILE").is_ok() {
        println!("{}", settle.logs.join("\n"));
    }
    if kind == PaymentKind::Calor {
        let settled = &settle.events::<calor::events::RentalSettled>()[0];
        assert!(
            settled.provider_amount > 0
                && settled.fee > 0
                && settled.staker_rewards > 0
                && settled.burned > 0
                && settled.refund > 0,
            "the benchmarked settlement pays every party"
        );
    }
    Job {
        open: open.compute_units,
        claim: claim.compute_units,
        start: start.compute_units,
        complete: complete.compute_units,
        settle: settle.compute_units,
    }
}

fn main() {
    let mut t = Table(Vec::new());

    let mut env = TestEnv::new();
    let protocol = Protocol::prepare(&mut env, TokenProgram::Token);
    t.add("initialize", protocol.initialize(&mut env));
    let authority = env.upgrade_authority.insecure_clone();
    let init_staking = ix::init_staking(
        authority.pubkey(),
        protocol.calor_mint,
        protocol.token_program.id(),
    );
    t.add(
        "init_staking (stake pool, subsidy pool, three vaults)",
        env.send(&[init_staking], &authority, &[])
            .expect_ok("init staking"),
    );

    let mut m = Market::new();
    let admin = m.authority.insecure_clone();
    let send =
        |env: &mut TestEnv, i, k: &Keypair, what: &str| env.send(&[i], k, &[]).expect_ok(what);
    t.add(
        "post_calor_price",
        send(
            &mut m.env,
            ix::post_calor_price(admin.pubkey(), 250_000),
            &admin,
            "post",
        ),
    );
    t.add(
        "update_config (pause flag)",
        send(
            &mut m.env,
            ix::update_config(
                admin.pubkey(),
                UpdateConfigArgs {
                    paused: Some(false),
                    ..Default::default()
                },
            ),
            &admin,
            "update",
        ),
    );
    let spec = &calor_tests::catalog::GPU_MODELS[0];
    t.add(
        "set_gpu_model (update)",
        send(
            &mut m.env,
            ix::set_gpu_model(admin.pubkey(), spec.id, spec.args(true)),
            &admin,
            "gpu",
        ),
    );
    let op = m.operator.authority.insecure_clone();
    t.add("node_heartbeat", m.heartbeat(&op, 0).expect_ok("heartbeat"));

    // whole jobs, the targets of issue 10
    let (renter, token) = m.renter();
    let rp = renter.pubkey();
    let sol = job(&mut m, &renter, token, 1, PaymentKind::Sol);
    let calor = job(&mut m, &renter, token, 2, PaymentKind::Calor);
    t.add_target("open_rental_sol", sol.open, 15_000);
    t.add_target("open_rental_calor", calor.open, 16_000);
    t.add_target("claim", sol.claim, 6_000);
    t.add_target("start", sol.start, 6_000);
    t.add_cu("complete", sol.complete);
    t.add_cu("settle_sol", sol.settle);
    t.add_target(
        "settle_calor (pays provider, fee, stakers' share, burn and refund)",
        calor.settle,
        20_000,
    );
    t.add_target(
        "whole SOL job (open, claim, start, complete, settle)",
        sol.total(),
        30_000,
    );
    t.add_target(
        "whole Calor job (open, claim, start, complete, settle)",
        calor.total(),
        39_000,
    );
    let sol_rental = pda::rental(&rp, 3);
    m.refresh_sol_price();
    m.try_open_sol(&renter, H100_SXM, Market::open_args(3, 2))
        .expect_ok("open");
    let sol_rent = m.env.lamports(&sol_rental) - m.rental(&sol_rental).escrowed;

    // extensions, stake priority and the other exits
    m.heartbeat(&op, 0).expect_ok("heartbeat");
    m.provider_op(ix::claim, &op, 0, sol_rental)
        .expect_ok("claim");
    m.provider_op(ix::start, &op, 0, sol_rental)
        .expect_ok("start");
    t.add(
        "extend_sol",
        send(
            &mut m.env,
            ix::extend_sol(rp, sol_rental, m.price_update, Market::extend_args(1)),
            &renter,
            "extend",
        ),
    );
    m.env.advance_secs(3 * 3_600);
    t.add(
        "expire",
        send(
            &mut m.env,
            ix::expire(sol_rental, m.operator.node(0)),
            &op,
            "expire",
        ),
    );
    let before = m.env.lamports(&rp);
    let settled = m.settle_sol(&sol_rental, &op).expect_ok("settle");
    let sol_refund = settled.events::<calor::events::RentalSettled>()[0].refund;
    let sol_rent_returned = m.env.lamports(&rp) - before - sol_refund;
    t.add(
        "withdraw_provider_earnings",
        send(
            &mut m.env,
            ix::withdraw_provider_earnings(op.pubkey(), m.operator.payout.pubkey()),
            &op,
            "withdraw",
        ),
    );

    m.refresh_prices();
    m.heartbeat(&op, 0).expect_ok("heartbeat");
    let calor_rental = pda::rental(&rp, 4);
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(4, 4))
        .expect_ok("open");
    let calor_rent = m.env.lamports(&calor_rental) + m.env.lamports(&pda::escrow(&calor_rental));
    m.provider_op(ix::claim, &op, 0, calor_rental)
        .expect_ok("claim");
    m.provider_op(ix::start, &op, 0, calor_rental)
        .expect_ok("start");
    let (mint, program) = (m.protocol.calor_mint, m.protocol.token_program.id());
    t.add(
        "extend_calor",
        send(
            &mut m.env,
            ix::extend_calor(
                rp,
                calor_rental,
                mint,
                token,
                program,
                Market::extend_args(1),
            ),
            &renter,
            "extend",
        ),
    );
    m.env.advance_secs(3_600);
    t.add(
        "reclaim (stale heartbeat)",
        send(
            &mut m.env,
            ix::reclaim(rp, calor_rental, m.operator.node(0)),
            &renter,
            "reclaim",
        ),
    );
    let before = m.env.lamports(&rp);
    let payout_token = m.operator.payout_token;
    t.add(
        "settle_calor (reclaimed at the start: refund only)",
        m.settle_calor(&calor_rental, token, Some(payout_token), &op)
            .expect_ok("settle"),
    );
    let calor_rent_returned = m.env.lamports(&rp) - before;

    m.refresh_sol_price();
    m.env
        .send(
            &[ix::update_node(
                op.pubkey(),
                0,
                calor::instructions::UpdateNodeArgs {
                    online: Some(true),
                    ..Default::default()
                },
            )],
            &op,
            &[],
        )
        .expect_ok("online");
    m.try_open_sol(&renter, H100_SXM, Market::open_args(5, 2))
        .expect_ok("open");
    let r5 = pda::rental(&rp, 5);
    t.add(
        "cancel (queued)",
        send(&mut m.env, ix::cancel(rp, r5, None), &renter, "cancel"),
    );
    t.add(
        "settle_sol (cancelled)",
        m.settle_sol(&r5, &op).expect_ok("settle"),
    );
    m.try_open_sol(&renter, H100_SXM, Market::open_args(6, 2))
        .expect_ok("open");
    let r6 = pda::rental(&rp, 6);
    m.provider_op(ix::claim, &op, 0, r6).expect_ok("claim");
    t.add(
        "fail",
        m.provider_op(ix::fail, &op, 0, r6).expect_ok("fail"),
    );
    m.settle_sol(&r6, &op).expect_ok("settle");
    let treasury = m.protocol.treasury.pubkey();
    m.env.fund(&treasury, 1_000_000_000);
    t.add(
        "sweep_fees",
        send(&mut m.env, ix::sweep_fees(treasury), &op, "sweep"),
    );

    // staking, rewards and governance, by an owner whose stake and vote-record PDAs are
    // found at the first bump
    let whale = first_try_owner();
    m.env.fund(&whale.pubkey(), 10_000_000_000);
    let whale = calor_tests::staking::Staker {
        token: m.fund_renter(&whale),
        keypair: whale,
    };
    t.add(
        "stake",
        m.try_stake(&whale, 50_000 * CALOR).expect_ok("stake"),
    );
    t.add(
        "advance_epoch (activates stake, moves stakers' fees)",
        m.advance_epoch().expect_ok("advance"),
    );
    t.add(
        "add_stake (with epoch record)",
        m.try_stake(&whale, 1_000 * CALOR).expect_ok("add"),
    );
    m.fund_rewards(1_000_000);
    t.add(
        "advance_epoch (distributes rewards)",
        m.advance_epoch().expect_ok("advance"),
    );
    t.add(
        "claim_rewards",
        m.try_claim_rewards(&whale).expect_ok("claim"),
    );
    t.add(
        "unstake",
        m.try_unstake(&whale, 1_000 * CALOR).expect_ok("unstake"),
    );
    let staked_renter = calor_tests::staking::Staker {
        keypair: renter.insecure_clone(),
        token,
    };
    m.try_stake(&staked_renter, 10_000 * CALOR)
        .expect_ok("stake");
    m.advance_epoch().expect_ok("advance");
    m.advance_epoch()
        .expect_ok("advance: the stake is now seasoned");
    m.refresh_sol_price();
    m.heartbeat(&op, 0).expect_ok("heartbeat");
    t.add(
        "open_rental_sol (with stake priority)",
        send(
            &mut m.env,
            ix::open_rental_sol_with(rp, H100_SXM, m.price_update, Market::open_args(7, 2), true),
            &renter,
            "open staked",
        ),
    );
    // the open with each kind of access: no key (web terminal only), the longest key line
    // (RSA 3,072) with five forwarded ports, an ECDSA key
    let ports: Vec<calor::state::ForwardedPort> = [8000, 8888, 6006, 3000, 9000]
        .into_iter()
        .map(|port| calor::state::ForwardedPort {
            port,
            http: port != 9000,
        })
        .collect();
    for (id, name, key, ports) in [
        (
            8,
            "open_rental_sol (staked renter, no SSH key)",
            None,
            vec![],
        ),
        (
            9,
            "open_rental_sol (staked renter, ssh-rsa 3,072-bit key, five forwarded ports)",
            Some(calor_tests::market::SSH_RSA_KEY),
            ports,
        ),
        (
            10,
            "open_rental_sol (staked renter, ecdsa-sha2-nistp256 key)",
            Some(calor_tests::market::SSH_ECDSA_KEY),
            vec![],
        ),
    ] {
        let mut args = Market::open_args(id, 2);
        args.ssh_public_key = key.map(str::to_string);
        args.forwarded_ports = ports;
        t.add(
            name,
            send(
                &mut m.env,
                ix::open_rental_sol_with(rp, H100_SXM, m.price_update, args, true),
                &renter,
                name,
            ),
        );
    }
    let action = calor::state::ProposalAction::SetProviderApproval {
        provider: m.operator.provider,
        approved: true,
    };
    let (id, proposed) = m.try_propose(&whale, action);
    t.add("propose", proposed.expect_ok("propose"));
    m.env.advance_secs(1);
    t.add("vote", m.try_vote(&whale, id, true).expect_ok("vote"));
    m.env.advance_secs(3 * 86_400);
    t.add(
        "execute_proposal (provider approval)",
        m.try_execute(id, Some(m.operator.provider))
            .expect_ok("execute"),
    );

    let so = std::fs::metadata(calor_tests::env::program_path())
        .map(|md| md.len())
        .unwrap_or(0);
    println!("runtime: LiteSVM 0.17 (agave 4.3, SPL Token as p-token)\n");
    println!("| instruction | compute units | target |");
    println!("|---|---:|---:|");
    for (name, cu, target) in &t.0 {
        let target = target.map_or(String::new(), |x| {
            format!("≤ {x}{}", if *cu <= x { "" } else { " MISSED" })
        });
        println!("| {name} | {cu} | {target} |");
    }
    let so_target = 800_000;
    println!(
        "| calor.so (bytes) | {so} | ≤ {so_target}{} |",
        if so <= so_target { "" } else { " MISSED" }
    );
    println!("\n| rent per rental | lamports | SOL | returned at close |");
    println!("|---|---:|---:|---:|");
    println!(
        "| SOL rental (rental account) | {sol_rent} | {:.6} | {sol_rent_returned} |",
        sol_rent as f64 / 1e9
    );
    println!(
        "| Calor rental (rental + escrow token account) | {calor_rent} | {:.6} | {calor_rent_returned} |",
        calor_rent as f64 / 1e9
    );
}
