//! Bad inputs, each rejected with its own named error, and nothing moved when rejected.
use anchor_lang::error::ErrorCode as AnchorError;
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::system_instruction;
use calor::errors::CalorError;
use calor::instructions::Location;
use calor::state::{ForwardedPort, RentalState};
use calor_client::{instructions as ix, pda};
use calor_tests::market::{Market, EU_WEST, H100_SXM, H200, RATE, SSH_KEY, US_EAST};
use calor_tests::outcome::OutcomeExt;
use calor_tests::pyth::{write_price_update_owned, PythPrice};
use calor_tests::spl;
use pyth_solana_receiver_sdk::price_update::VerificationLevel;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// A market with one queued SOL rental (id 1, 2 h) from `renter`.
fn queued() -> (Market, Keypair, Pubkey) {
    let mut m = Market::new();
    let (renter, _) = m.renter();
    m.try_open_sol(&renter, H100_SXM, Market::open_args(1, 2))
        .expect_ok("open");
    let rental = pda::rental(&renter.pubkey(), 1);
    (m, renter, rental)
}

fn running() -> (Market, Keypair, Pubkey) {
    let (mut m, renter, rental) = queued();
    let op = m.operator.authority.insecure_clone();
    m.provider_op(ix::claim, &op, 0, rental).expect_ok("claim");
    m.provider_op(ix::start, &op, 0, rental).expect_ok("start");
    (m, renter, rental)
}

#[test]
fn oracle_prices_must_be_pinned_verified_fresh_and_narrow() {
    let mut m = Market::new();
    let (renter, _) = m.renter();
    let now = m.env.clock().unix_timestamp;
    let before = m.env.lamports(&renter.pubkey());
    let cases = [
        (
            "stale by one second",
            PythPrice::sol_usd(15_000, 10, now - 61),
            CalorError::StalePrice,
        ),
        (
            "confidence 2.01%",
            PythPrice::sol_usd(15_000, 302, now),
            CalorError::PriceConfidenceTooWide,
        ),
        (
            "another feed",
            PythPrice {
                feed_id: [7; 32],
                ..PythPrice::sol_usd(15_000, 10, now)
            },
            CalorError::WrongPriceFeed,
        ),
        (
            "partially verified",
            PythPrice {
                verification: VerificationLevel::Partial { num_signatures: 5 },
                ..PythPrice::sol_usd(15_000, 10, now)
            },
            CalorError::PriceNotVerified,
        ),
        (
            "negative price",
            PythPrice::sol_usd(-1, 0, now),
            CalorError::InvalidOraclePrice,
        ),
        (
            "published 11 s in the future",
            PythPrice::sol_usd(15_000, 10, now + 11),
            CalorError::PriceFromFuture,
        ),
    ];
    for (name, price, expected) in cases {
        println!("case: {name}");
        m.set_sol_price(&price);
        m.try_open_sol(&renter, H100_SXM, Market::open_args(1, 2))
            .expect_calor_err(expected);
    }
    // the limits themselves pass: 60 s old, confidence exactly 2%, 10 s ahead (clock skew)
    m.set_sol_price(&PythPrice::sol_usd(15_000, 10, now + 10));
    m.try_open_sol(&renter, H100_SXM, Market::open_args(3, 2))
        .expect_ok("10 s ahead");
    m.set_sol_price(&PythPrice::sol_usd(15_000, 300, now - 60));
    m.try_open_sol(&renter, H100_SXM, Market::open_args(1, 2))
        .expect_ok("at the limits");
    // a PriceUpdateV2 forged under another owner
    let fake = Pubkey::new_unique();
    let p = PythPrice::sol_usd(15_000, 10, now);
    write_price_update_owned(&mut m.env, fake, &p, renter.pubkey());
    let ix = ix::open_rental_sol(renter.pubkey(), H100_SXM, fake, Market::open_args(2, 2));
    m.env
        .send(&[ix], &renter, &[])
        .expect_anchor_err(AnchorError::AccountOwnedByWrongProgram);
    assert!(m.env.lamports(&renter.pubkey()) < before);
    assert!(m.env.account(&pda::rental(&renter.pubkey(), 2)).is_none());
}

#[test]
fn open_arguments_are_checked() {
    let mut m = Market::new();
    let (renter, token) = m.renter();
    let with = |edit: &dyn Fn(&mut calor::instructions::OpenRentalArgs)| {
        let mut a = Market::open_args(1, 2);
        edit(&mut a);
        a
    };
    let before = m.env.lamports(&renter.pubkey());
    let cases = [
        (
            "1 h = $2.50 is below $5",
            with(&|a| a.hours = 1),
            CalorError::BelowMinimumRental,
        ),
        (
            "zero hours",
            with(&|a| a.hours = 0),
            CalorError::InvalidHours,
        ),
        (
            "hours overflow",
            with(&|a| a.hours = u32::MAX),
            CalorError::InvalidHours,
        ),
        (
            "over 90 days",
            with(&|a| a.hours = 90 * 24 + 1),
            CalorError::InvalidHours,
        ),
        (
            "rate × hours overflows",
            with(&|a| a.hourly_rate_micro_usd = u64::MAX),
            CalorError::MathOverflow,
        ),
        (
            "zero rate",
            with(&|a| a.hourly_rate_micro_usd = 0),
            CalorError::ZeroRate,
        ),
        (
            "a truncated rsa key",
            with(&|a| a.ssh_public_key = Some("ssh-rsa AAAAB3Nza".into())),
            CalorError::InvalidSshKey,
        ),
        (
            "key too long",
            with(&|a| {
                a.ssh_public_key = Some(format!("ssh-rsa AAAAB3NzaC1yc2E{}", "A".repeat(640)))
            }),
            CalorError::InvalidSshKey,
        ),
        (
            "a second key line",
            with(&|a| a.ssh_public_key = Some(format!("{SSH_KEY}\n{SSH_KEY}"))),
            CalorError::InvalidSshKey,
        ),
        (
            "a key with options",
            with(&|a| a.ssh_public_key = Some(format!("command=\"sh\" {SSH_KEY}"))),
            CalorError::InvalidSshKey,
        ),
        (
            "the SSH port forwarded",
            with(&|a| {
                a.forwarded_ports = vec![ForwardedPort {
                    port: 22,
                    http: false,
                }]
            }),
            CalorError::InvalidForwardedPorts,
        ),
        (
            "a port twice",
            with(&|a| {
                a.forwarded_ports = vec![
                    ForwardedPort {
                        port: 8888,
                        http: true
                    };
                    2
                ]
            }),
            CalorError::InvalidForwardedPorts,
        ),
        (
            "port 0",
            with(&|a| {
                a.forwarded_ports = vec![ForwardedPort {
                    port: 0,
                    http: true,
                }]
            }),
            CalorError::InvalidForwardedPorts,
        ),
        (
            "six ports",
            with(&|a| {
                a.forwarded_ports = (1..=6)
                    .map(|i| ForwardedPort {
                        port: 8000 + i,
                        http: false,
                    })
                    .collect()
            }),
            CalorError::InvalidForwardedPorts,
        ),
        (
            "latitude 91",
            with(&|a| {
                a.near = Some(Location {
                    latitude_deg: 91,
                    longitude_deg: 0,
                })
            }),
            CalorError::InvalidLocation,
        ),
        (
            "a price above what the renter approved",
            // 2 h at $5 costs 33,355,571 lamports
            with(&|a| a.max_payment = 33_355_570),
            CalorError::PaymentAboveMaximum,
        ),
    ];
    let sent = cases.len() + 4;
    for (name, args, expected) in cases {
        println!("case: {name}");
        m.try_open_sol(&renter, H100_SXM, args)
            .expect_calor_err(expected);
    }
    // region pin without its account, and an account that is not the pinned region
    let pinned = with(&|a| a.region = Some(EU_WEST));
    let mut bad = ix::open_rental_sol(renter.pubkey(), H100_SXM, m.price_update, pinned.clone());
    bad.accounts[2].pubkey = calor::ID; // "None"
    m.env
        .send(&[bad], &renter, &[])
        .expect_calor_err(CalorError::RegionMismatch);
    let mut bad = ix::open_rental_sol(renter.pubkey(), H100_SXM, m.price_update, pinned);
    bad.accounts[2].pubkey = pda::region(US_EAST);
    m.env
        .send(&[bad], &renter, &[])
        .expect_calor_err(CalorError::RegionMismatch);
    // a program account of another type where the GPU model goes
    let mut bad = ix::open_rental_sol(
        renter.pubkey(),
        H100_SXM,
        m.price_update,
        Market::open_args(1, 2),
    );
    bad.accounts[1].pubkey = pda::region(US_EAST);
    m.env
        .send(&[bad], &renter, &[])
        .expect_anchor_err(AnchorError::AccountDiscriminatorMismatch);
    // Calor: 2 h = $5 at market is $2.50 after the subsidy, below the minimum
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(1, 2))
        .expect_calor_err(CalorError::BelowMinimumRental);
    // only transaction fees were spent
    assert_eq!(
        before - m.env.lamports(&renter.pubkey()),
        5_000 * sent as u64
    );
}

#[test]
fn calor_payments_need_the_calor_mint_and_a_fresh_rate() {
    let mut m = Market::new();
    let (renter, token) = m.renter();
    let admin = m.authority.insecure_clone();
    // another mint, and the renter's account of it
    let other = spl::create_mint(
        &mut m.env,
        &admin,
        &admin.pubkey(),
        6,
        m.protocol.token_program,
    );
    let other_token = spl::create_token_account(
        &mut m.env,
        &renter,
        &other,
        &renter.pubkey(),
        m.protocol.token_program,
    );
    let ix_other = ix::open_rental_calor(
        renter.pubkey(),
        H100_SXM,
        other,
        other_token,
        m.protocol.token_program.id(),
        Market::open_args(1, 4),
    );
    m.env
        .send(&[ix_other], &renter, &[])
        .expect_calor_err(CalorError::WrongMint);
    let ix_mixed = ix::open_rental_calor(
        renter.pubkey(),
        H100_SXM,
        m.protocol.calor_mint,
        other_token,
        m.protocol.token_program.id(),
        Market::open_args(1, 4),
    );
    m.env
        .send(&[ix_mixed], &renter, &[])
        .expect_calor_err(CalorError::WrongMint);
    // the posted rate expires after an hour
    m.env.advance_secs(3_601);
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(1, 4))
        .expect_calor_err(CalorError::StaleCalorPrice);
    // and must stay within bounds when posted
    m.env
        .send(&[ix::post_calor_price(admin.pubkey(), 99)], &admin, &[])
        .expect_calor_err(CalorError::CalorPriceOutOfBounds);
    m.env
        .send(
            &[ix::post_calor_price(admin.pubkey(), 1_000_000_001)],
            &admin,
            &[],
        )
        .expect_calor_err(CalorError::CalorPriceOutOfBounds);
    // SOL instructions refuse Calor rentals and vice versa
    m.env
        .send(
            &[ix::post_calor_price(admin.pubkey(), 250_000)],
            &admin,
            &[],
        )
        .expect_ok("post");
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(1, 4))
        .expect_ok("open");
    let rental = pda::rental(&renter.pubkey(), 1);
    m.env
        .send(
            &[ix::extend_sol(
                renter.pubkey(),
                rental,
                m.price_update,
                Market::extend_args(1),
            )],
            &renter,
            &[],
        )
        .expect_calor_err(CalorError::WrongPaymentKind);
}

#[test]
fn claims_follow_model_region_rate_approval_and_liveness() {
    let (mut m, renter, rental) = queued();
    let op = m.operator.authority.insecure_clone();
    // an H200 node of the same provider
    let h200 = m.list_node(&op, H200, US_EAST, RATE);
    m.provider_op(ix::claim, &op, h200, rental)
        .expect_calor_err(CalorError::WrongGpuModel);
    // pinned to EU West: the US East node may not take it
    let pinned = Market::open_args(2, 2);
    let pinned = calor::instructions::OpenRentalArgs {
        region: Some(EU_WEST),
        ..pinned
    };
    m.try_open_sol(&renter, H100_SXM, pinned)
        .expect_ok("open pinned");
    let pinned_rental = pda::rental(&renter.pubkey(), 2);
    m.provider_op(ix::claim, &op, 0, pinned_rental)
        .expect_calor_err(CalorError::WrongRegion);
    // a node priced above the offer
    let pricey = m.list_node(&op, H100_SXM, US_EAST, RATE + 1);
    m.provider_op(ix::claim, &op, pricey, rental)
        .expect_calor_err(CalorError::NodeRateAboveOffer);
    // someone else's node, with this provider or with its own
    let other = m.add_operator(EU_WEST);
    let mut bad = ix::claim(op.pubkey(), 0, rental);
    bad.accounts[2].pubkey = pda::node(&other.provider, 0);
    let other_node = m.list_node(&other.authority.insecure_clone(), H100_SXM, EU_WEST, RATE);
    assert_eq!(other_node, 0);
    m.env
        .send(&[bad.clone()], &op, &[])
        .expect_calor_err(CalorError::Unauthorized);
    bad.accounts[1].pubkey = other.provider;
    m.env
        .send(&[bad], &op, &[])
        .expect_calor_err(CalorError::Unauthorized);
    // this operator's node under another provider's account
    let mut bad = ix::claim(op.pubkey(), 0, rental);
    bad.accounts[1].pubkey = other.provider;
    m.env
        .send(&[bad], &op, &[])
        .expect_calor_err(CalorError::WrongNode);
    // a stranger signing for the provider
    let stranger = m.env.funded_keypair();
    let mut bad = ix::claim(op.pubkey(), 0, rental);
    bad.accounts[4].pubkey = stranger.pubkey();
    m.env
        .send(&[bad], &stranger, &[])
        .expect_calor_err(CalorError::Unauthorized);
    // a silent node
    m.env.advance_secs(301);
    m.provider_op(ix::claim, &op, 0, rental)
        .expect_calor_err(CalorError::NodeHeartbeatStale);
    m.heartbeat(&op, 0).expect_ok("heartbeat");
    // a revoked provider
    let admin = m.authority.insecure_clone();
    m.env
        .send(
            &[ix::approve_provider(admin.pubkey(), op.pubkey(), false)],
            &admin,
            &[],
        )
        .expect_ok("revoke");
    m.provider_op(ix::claim, &op, 0, rental)
        .expect_calor_err(CalorError::ProviderNotApproved);
    m.env
        .send(
            &[ix::approve_provider(admin.pubkey(), op.pubkey(), true)],
            &admin,
            &[],
        )
        .expect_ok("approve");
    // claim once; a second claim by another node finds it taken
    m.provider_op(ix::claim, &op, 0, rental).expect_ok("claim");
    let second = m.list_node(&op, H100_SXM, US_EAST, RATE);
    m.provider_op(ix::claim, &op, second, rental)
        .expect_calor_err(CalorError::RentalNotQueued);
    // and the busy node cannot take another rental
    m.refresh_sol_price();
    m.try_open_sol(&renter, H100_SXM, Market::open_args(3, 2))
        .expect_ok("open 3");
    m.provider_op(ix::claim, &op, 0, pda::rental(&renter.pubkey(), 3))
        .expect_calor_err(CalorError::NodeNotIdle);
    // a node serving nothing of this rental may not start it
    m.provider_op(ix::start, &op, second, rental)
        .expect_calor_err(CalorError::WrongNode);
    assert_eq!(m.rental(&rental).state(), RentalState::Provisioning);
}

#[test]
fn lifecycle_order_is_enforced() {
    let (mut m, renter, rental) = running();
    let node = m.operator.node(0);
    let op = m.operator.authority.insecure_clone();
    m.env
        .send(
            &[ix::cancel(renter.pubkey(), rental, Some(node))],
            &renter,
            &[],
        )
        .expect_calor_err(CalorError::RentalAlreadyStarted);
    m.settle_sol(&rental, &renter)
        .expect_calor_err(CalorError::SettleBeforeEnd);
    m.provider_op(ix::start, &op, 0, rental)
        .expect_calor_err(CalorError::RentalNotProvisioning);
    m.provider_op(ix::fail, &op, 0, rental)
        .expect_calor_err(CalorError::RentalNotProvisioning);
    let stranger = m.env.funded_keypair();
    m.complete(&stranger, &rental)
        .expect_calor_err(CalorError::Unauthorized);
    // the node cannot go offline while serving
    m.env
        .send(
            &[ix::update_node(
                op.pubkey(),
                0,
                calor::instructions::UpdateNodeArgs {
                    online: Some(false),
                    ..Default::default()
                },
            )],
            &op,
            &[],
        )
        .expect_calor_err(CalorError::NodeBusy);
    // extending after the paid time
    m.env.advance_secs(7_200);
    m.refresh_sol_price();
    m.env
        .send(
            &[ix::extend_sol(
                renter.pubkey(),
                rental,
                m.price_update,
                Market::extend_args(1),
            )],
            &renter,
            &[],
        )
        .expect_calor_err(CalorError::RentalTimeOver);
    m.env
        .send(&[ix::expire(rental, node)], &stranger, &[])
        .expect_ok("expire");
    m.env
        .send(&[ix::expire(rental, node)], &stranger, &[])
        .expect_calor_err(CalorError::RentalNotRunning);

    // settle exactly once
    let parties = calor_client::instructions::SettleParties::of(&m.rental(&rental));
    m.settle_sol(&rental, &stranger).expect_ok("settle");
    let again = ix::settle_sol(rental, parties);
    m.env
        .send(std::slice::from_ref(&again), &stranger, &[])
        .expect_anchor_err(AnchorError::AccountOwnedByWrongProgram);
    // revival: refunding lamports to the closed address does not bring the rental back
    let revive = system_instruction::transfer(&stranger.pubkey(), &rental, 10_000_000);
    m.env
        .send(&[revive], &stranger, &[])
        .expect_ok("send lamports to the closed address");
    m.env
        .send(&[again], &stranger, &[])
        .expect_anchor_err(AnchorError::AccountOwnedByWrongProgram);
}

#[test]
fn a_paused_protocol_still_lets_money_out() {
    let (mut m, renter, rental) = running();
    let (renter2, _) = m.renter();
    m.try_open_sol(&renter2, H100_SXM, Market::open_args(1, 2))
        .expect_ok("queued rental");
    m.set_paused(true);
    m.try_open_sol(&renter, H100_SXM, Market::open_args(5, 2))
        .expect_calor_err(CalorError::Paused);
    let op = m.operator.authority.insecure_clone();
    m.provider_op(ix::claim, &op, 0, pda::rental(&renter2.pubkey(), 1))
        .expect_calor_err(CalorError::Paused);
    m.env
        .send(
            &[ix::extend_sol(
                renter.pubkey(),
                rental,
                m.price_update,
                Market::extend_args(1),
            )],
            &renter,
            &[],
        )
        .expect_calor_err(CalorError::Paused);
    // heartbeats, exits and settlement go on
    m.heartbeat(&op, 0).expect_ok("heartbeat while paused");
    m.env
        .send(
            &[ix::cancel(
                renter2.pubkey(),
                pda::rental(&renter2.pubkey(), 1),
                None,
            )],
            &renter2,
            &[],
        )
        .expect_ok("cancel while paused");
    m.settle_sol(&pda::rental(&renter2.pubkey(), 1), &renter2)
        .expect_ok("settle while paused");
    m.env.advance_secs(600);
    m.complete(&renter, &rental)
        .expect_ok("complete while paused");
    m.settle_sol(&rental, &renter)
        .expect_ok("settle while paused");
    m.set_paused(false);
    m.refresh_sol_price();
    m.try_open_sol(&renter, H100_SXM, Market::open_args(5, 2))
        .expect_ok("open after unpause");
}
