//! Compute units per instruction of the real calor.so and rent per rental, printed as tables.
//! Run: cargo bench -p calor-tests --ignore-rust-version --bench compute_units
use calor::instructions::UpdateConfigArgs;
use calor_client::{instructions as ix, pda};
use calor_tests::fixtures::{Protocol, CALOR};
use calor_tests::market::{Market, H100_SXM};
use calor_tests::outcome::{OutcomeExt, Success};
use calor_tests::spl::TokenProgram;
use calor_tests::TestEnv;
use solana_signer::Signer;

struct Table(Vec<(String, u64, Option<u64>)>);

impl Table {
    fn add(&mut self, name: &str, tx: Success) {
        self.0.push((name.into(), tx.compute_units, None));
    }
    fn add_target(&mut self, name: &str, tx: Success, target: u64) {
        self.0.push((name.into(), tx.compute_units, Some(target)));
    }
}

/// The first of a fixed series of keypairs whose stake PDA and vote record on proposal 0 have
/// the canonical bump 255: each further bump `find_program_address` tries costs 1,500 CU, so
/// a random key would make those rows vary from run to run.
fn first_try_owner() -> solana_keypair::Keypair {
    use calor::constants::{STAKE_SEED, VOTE_SEED};
    let first_try = |seeds: &[&[u8]]| {
        anchor_lang::prelude::Pubkey::find_program_address(seeds, &calor::ID).1 == u8::MAX
    };
    (0u8..=u8::MAX)
        .map(|n| solana_keypair::Keypair::new_from_array([n; 32]))
        .find(|k| {
            let owner = k.pubkey();
            first_try(&[STAKE_SEED, owner.as_ref()])
                && first_try(&[VOTE_SEED, pda::proposal(0).as_ref(), owner.as_ref()])
        })
        .expect("one in four keys qualifies")
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
        "init_staking",
        env.send(&[init_staking], &authority, &[])
            .expect_ok("init staking"),
    );

    let mut m = Market::new();
    let admin = m.authority.insecure_clone();
    let send = |env: &mut TestEnv, i, k: &solana_keypair::Keypair, what: &str| {
        env.send(&[i], k, &[]).expect_ok(what)
    };
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
        "update_gpu_model",
        send(
            &mut m.env,
            ix::update_gpu_model(admin.pubkey(), spec.id, spec.args(true)),
            &admin,
            "gpu",
        ),
    );
    let op = m.operator.authority.insecure_clone();
    t.add("node_heartbeat", m.heartbeat(&op, 0).expect_ok("heartbeat"));

    // SOL: open → claim → start → complete (half way) → settle
    // Ids whose PDAs' canonical bump is 255, as `calor_client` picks them; one row shows
    // what an id costs whose rental needs a second bump try.
    let (renter, token) = m.renter();
    let rp = renter.pubkey();
    let sol_id = pda::cheapest_rental_id(&rp, 1, false);
    let calor_id = pda::cheapest_rental_id(&rp, sol_id + 1, true);
    let [cancel_id, fail_id, expire_id] = [calor_id + 1, calor_id + 2, calor_id + 3];
    let second_try_id = (expire_id + 1..)
        .find(|id| {
            let seeds: &[&[u8]] = &[
                calor::constants::RENTAL_SEED,
                rp.as_ref(),
                &id.to_le_bytes(),
            ];
            anchor_lang::prelude::Pubkey::find_program_address(seeds, &calor::ID).1 == 254
        })
        .unwrap();
    t.add_target(
        "open_rental_sol",
        m.try_open_sol(&renter, H100_SXM, Market::open_args(sol_id, 2))
            .expect_ok("open"),
        20_000,
    );
    let sol_rental = pda::rental(&rp, sol_id);
    let sol_rent = m.env.lamports(&sol_rental) - m.rental(&sol_rental).escrowed;
    t.add(
        "claim",
        m.provider_op(ix::claim, &op, 0, sol_rental)
            .expect_ok("claim"),
    );
    t.add(
        "start",
        m.provider_op(ix::start, &op, 0, sol_rental)
            .expect_ok("start"),
    );
    m.env.advance_secs(1_800);
    m.refresh_sol_price();
    t.add(
        "extend_sol",
        send(
            &mut m.env,
            ix::extend_sol(rp, sol_id, m.price_update, 1),
            &renter,
            "extend",
        ),
    );
    m.env.advance_secs(1_800);
    let node = m.operator.node(0);
    t.add(
        "complete",
        send(
            &mut m.env,
            ix::complete(renter.pubkey(), sol_rental, node, m.operator.provider),
            &renter,
            "complete",
        ),
    );
    let before = m.env.lamports(&renter.pubkey());
    let settle = m.settle_sol(&sol_rental, &op).expect_ok("settle");
    let sol_refund = settle.events::<calor::events::RentalSettled>()[0].refund;
    let sol_rent_returned = m.env.lamports(&renter.pubkey()) - before - sol_refund;
    t.add("settle_sol", settle);
    t.add(
        "withdraw_provider_earnings",
        send(
            &mut m.env,
            ix::withdraw_provider_earnings(op.pubkey(), m.operator.payout.pubkey()),
            &op,
            "withdraw",
        ),
    );

    // Calor: open → claim → start → reclaim → settle with burn
    m.refresh_sol_price();
    m.heartbeat(&op, 0).expect_ok("heartbeat");
    t.add_target(
        "open_rental_calor",
        m.try_open_calor(&renter, token, H100_SXM, Market::open_args(calor_id, 4))
            .expect_ok("open"),
        20_000,
    );
    let calor_rental = pda::rental(&rp, calor_id);
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
            ix::extend_calor(rp, calor_id, mint, token, program, 1),
            &renter,
            "extend",
        ),
    );
    m.env.advance_secs(3_600);
    t.add(
        "reclaim (stale heartbeat)",
        send(
            &mut m.env,
            ix::reclaim(rp, calor_id, node),
            &renter,
            "reclaim",
        ),
    );
    let before = m.env.lamports(&renter.pubkey());
    let payout_token = m.operator.payout_token;
    t.add_target(
        "settle_calor (with burn)",
        m.settle_calor(&calor_rental, token, Some(payout_token), &op)
            .expect_ok("settle"),
        30_000,
    );
    let calor_rent_returned = m.env.lamports(&renter.pubkey()) - before;

    // the remaining exits
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
    t.add(
        "open_rental_sol (rental PDA at its 2nd bump)",
        m.try_open_sol(&renter, H100_SXM, Market::open_args(second_try_id, 2))
            .expect_ok("open"),
    );
    m.try_open_sol(&renter, H100_SXM, Market::open_args(cancel_id, 2))
        .expect_ok("open");
    t.add(
        "cancel (queued)",
        send(
            &mut m.env,
            ix::cancel(rp, cancel_id, None),
            &renter,
            "cancel",
        ),
    );
    t.add(
        "settle_sol (cancelled)",
        m.settle_sol(&pda::rental(&rp, cancel_id), &op)
            .expect_ok("settle"),
    );
    m.try_open_sol(&renter, H100_SXM, Market::open_args(fail_id, 2))
        .expect_ok("open");
    let r4 = pda::rental(&rp, fail_id);
    m.provider_op(ix::claim, &op, 0, r4).expect_ok("claim");
    t.add(
        "fail",
        m.provider_op(ix::fail, &op, 0, r4).expect_ok("fail"),
    );
    m.settle_sol(&r4, &op).expect_ok("settle");
    m.try_open_sol(&renter, H100_SXM, Market::open_args(expire_id, 2))
        .expect_ok("open");
    let r5 = pda::rental(&rp, expire_id);
    m.provider_op(ix::claim, &op, 0, r5).expect_ok("claim");
    m.provider_op(ix::start, &op, 0, r5).expect_ok("start");
    m.env.advance_secs(7_200);
    t.add(
        "expire",
        send(&mut m.env, ix::expire(r5, node), &op, "expire"),
    );
    let treasury = m.protocol.treasury.pubkey();
    m.env.fund(&treasury, 1_000_000_000);
    t.add(
        "sweep_fees",
        send(&mut m.env, ix::sweep_fees(treasury), &op, "sweep"),
    );

    // staking, rewards and governance, by an owner whose stake and vote-record PDAs are
    // found at the first bump (as the rental ids above)
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
        "advance_epoch (activates stake)",
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
    m.refresh_sol_price();
    let staked_renter = calor_tests::staking::Staker {
        keypair: renter.insecure_clone(),
        token,
    };
    m.try_stake(&staked_renter, 10_000 * CALOR)
        .expect_ok("stake");
    m.advance_epoch().expect_ok("advance");
    m.refresh_sol_price();
    let staked_id = pda::cheapest_rental_id(&rp, second_try_id + 1, false);
    t.add(
        "open_rental_sol (with stake priority)",
        send(
            &mut m.env,
            ix::open_rental_sol_with(
                rp,
                H100_SXM,
                m.price_update,
                Market::open_args(staked_id, 2),
                true,
            ),
            &renter,
            "open staked",
        ),
    );
    let action = calor::state::ProposalAction::SetFees {
        protocol_fee_bps: 400,
        burn_bps: 2_000,
        calor_subsidy_bps: 5_000,
    };
    let (id, proposed) = m.try_propose(&whale, action);
    t.add("propose", proposed.expect_ok("propose"));
    m.env.advance_secs(1);
    t.add("vote", m.try_vote(&whale, id, true).expect_ok("vote"));
    m.env.advance_secs(3 * 86_400);
    t.add(
        "execute_proposal (fees)",
        m.try_execute(id, None).expect_ok("execute"),
    );

    let so = std::fs::metadata(calor_tests::env::program_path())
        .map(|md| md.len())
        .unwrap_or(0);
    println!("calor.so: {so} bytes; runtime: LiteSVM 0.17 (agave 4.3, SPL Token as p-token)\n");
    println!("| instruction | compute units | target |");
    println!("|---|---:|---:|");
    for (name, cu, target) in &t.0 {
        let target = target.map_or(String::new(), |x| {
            format!("≤ {x}{}", if *cu <= x { "" } else { " MISSED" })
        });
        println!("| {name} | {cu} | {target} |");
    }
    println!("\n| rent per rental | lamports | SOL | returned at close |");
    println!("|---|---:|---:|---:|");
    println!(
        "| SOL rental (rental account) | {sol_rent} | {:.6} | {sol_rent_returned} |",
        sol_rent as f64 / 1e9
    );
    println!("| Calor rental (rental + escrow token account) | {calor_rent} | {:.6} | {calor_rent_returned} |", calor_rent as f64 / 1e9);
}
