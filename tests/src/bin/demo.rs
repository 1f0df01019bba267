//! The local walk-through behind the README's first command: loads the built program into
//! an in-process SVM and runs the protocol's flow as far as it exists, narrating each step.
use calor::events::RentalSettled;
use calor::state::{Config, Rental};
use calor_client::{instructions as ix, pda};
use calor_tests::catalog::{GPU_MODELS, REGIONS};
use calor_tests::env::program_path;
use calor_tests::market::{Market, H100_SXM, RATE};
use calor_tests::outcome::OutcomeExt;
use calor_tests::spl;
use solana_signer::Signer;

fn step(n: u32, text: &str) {
    println!("\n\x1b[1m[{n}] {text}\x1b[0m");
}

fn sol(lamports: u64) -> String {
    format!("{:.9} SOL", lamports as f64 / 1e9)
}

fn main() {
    step(1, "deploy the program into a local SVM (LiteSVM, agave 4.3 runtime), initialise the protocol and seed the catalog");
    let so = program_path();
    let mut m = Market::new();
    println!(
        "    {} ({} bytes) as {}",
        so.display(),
        std::fs::metadata(&so).map(|x| x.len()).unwrap_or(0),
        calor::ID
    );
    let config: Config = m.env.decode(&pda::config().0);
    println!(
        "    config: fee {:.2}%, burn {:.2}% of Calor, Calor subsidy {:.2}%, minimum ${:.2}",
        f64::from(config.params.protocol_fee_bps) / 100.0,
        f64::from(config.params.burn_bps) / 100.0,
        f64::from(config.params.calor_subsidy_bps) / 100.0,
        config.params.min_rental_micro_usd as f64 / 1e6
    );
    println!(
        "    GPUs: {}",
        GPU_MODELS
            .iter()
            .map(|g| g.name)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "    regions: {}",
        REGIONS
            .iter()
            .map(|r| r.name)
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "    provider {} approved, node 0: H100 SXM5 ×8 in US East at ${:.2}/h",
        m.operator.provider,
        RATE as f64 / 1e6
    );
    println!(
        "    SOL/USD from a Pyth PriceUpdateV2 account: $150.00 ± $0.10; Calor/USD posted: $0.25"
    );

    step(2, "a renter opens a 2-hour H100 SXM5 rental, paying in SOL");
    let (renter, _) = m.renter();
    let start_balance = m.env.lamports(&renter.pubkey());
    let tx = m
        .try_open_sol(&renter, H100_SXM, Market::open_args(1, 2))
        .expect_ok("open");
    let address = pda::rental(&renter.pubkey(), 1);
    let r: Rental = m.rental(&address);
    let usd_paid = tx.events::<calor::events::RentalOpened>()[0].usd_paid_micro;
    println!(
        "    rental {address}: ${:.2} → {} escrowed in the rental PDA ({} CU)",
        usd_paid as f64 / 1e6,
        sol(r.escrowed),
        tx.compute_units
    );

    step(
        3,
        "the provider claims it for its node and starts the instance",
    );
    let op = m.operator.authority.insecure_clone();
    m.provider_op(ix::claim, &op, 0, address).expect_ok("claim");
    m.provider_op(ix::start, &op, 0, address).expect_ok("start");
    println!("    state: {:?}, ends in 2 h", m.rental(&address).state());

    step(4, "75 minutes later the renter stops it early");
    m.env.advance_secs(75 * 60);
    m.complete(&renter, &address).expect_ok("complete");
    println!("    served {} s of 7,200 s", m.rental(&address).served_secs);

    step(5, "anyone settles: the provider is paid per second, the fee goes to the treasury, the rest is refunded");
    let tx = m.settle_sol(&address, &op).expect_ok("settle");
    let e = &tx.events::<RentalSettled>()[0];
    println!(
        "    provider {}, protocol fee {}, refund {}",
        sol(e.provider_amount),
        sol(e.fee),
        sol(e.refund)
    );
    println!(
        "    the renter paid {} in total (2 transaction fees included); rent returned",
        sol(start_balance - m.env.lamports(&renter.pubkey()))
    );

    step(6, "the same with Calor: 4 hours at a 50% subsidy, stopped after 1 hour; the provider earns the market value, the subsidy vault funds the subsidy and a burn of 20% of the value served");
    // a holder stakes before the rental, so that the fee's staker share has someone to go to
    let staker = m.active_staker(1_000 * calor_tests::fixtures::CALOR);
    println!("    a holder stakes 1,000 Calor; an epoch later the stake is active");
    let admin = m.authority.insecure_clone();
    m.env
        .send(
            &[ix::post_calor_price(admin.pubkey(), 250_000)],
            &admin,
            &[],
        )
        .expect_ok("post rate");
    println!("    the authority re-posts the Calor rate (it is usable for 1 hour): $0.25");
    let (renter2, token) = m.renter();
    let supply = spl::mint(&m.env, &m.protocol.calor_mint).supply;
    m.try_open_calor(&renter2, token, H100_SXM, Market::open_args(1, 4))
        .expect_ok("open");
    let address = pda::rental(&renter2.pubkey(), 1);
    println!(
        "    escrowed {} Calor in the rental's own token account",
        m.rental(&address).escrowed as f64 / 1e6
    );
    m.heartbeat(&op, 0).expect_ok("heartbeat");
    println!("    the node sends its heartbeat (a node silent for 5 minutes cannot claim)");
    m.provider_op(ix::claim, &op, 0, address).expect_ok("claim");
    m.provider_op(ix::start, &op, 0, address).expect_ok("start");
    m.env.advance_secs(3_600);
    m.complete(&op, &address).expect_ok("complete");
    let payout = m.operator.payout_token;
    let tx = m
        .settle_calor(&address, token, Some(payout), &op)
        .expect_ok("settle");
    let e = &tx.events::<RentalSettled>()[0];
    println!(
        "    provider {} Calor, fee {} Calor, burned {} Calor (supply {} → {}), refund {} Calor; the subsidy vault added {} Calor",
        e.provider_amount as f64 / 1e6,
        e.fee as f64 / 1e6,
        e.burned as f64 / 1e6,
        supply as f64 / 1e6,
        spl::mint(&m.env, &m.protocol.calor_mint).supply as f64 / 1e6,
        e.refund as f64 / 1e6,
        e.subsidy_drawn as f64 / 1e6
    );

    step(
        7,
        "stakers: the epoch ends, rewards are distributed and claimed",
    );
    m.advance_epoch().expect_ok("advance epoch");
    let before = spl::balance(&m.env, &staker.token);
    m.try_claim_rewards(&staker).expect_ok("claim rewards");
    println!(
        "    {} Calor of the fee moved to the rewards vault; the staker claims {} Calor",
        e.staker_rewards as f64 / 1e6,
        (spl::balance(&m.env, &staker.token) - before) as f64 / 1e6
    );

    println!(
        "\nThe same flow runs on a real local chain with the provisioner: bash scripts/demo.sh"
    );
}
