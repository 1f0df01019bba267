//! The findings of the review of issue 10, one test each: every one of these succeeded (or
//! paid the wrong party) on the program before the fix.
use anchor_lang::prelude::Pubkey;
use anchor_spl::token::spl_token;
use calor::errors::CalorError;
use calor::events::{RentalEnded, RentalSettled};
use calor::instructions::ExtendArgs;
use calor::state::{EndReason, ProposalAction, RentalState};
use calor_client::instructions::{self as ix, SettleParties};
use calor_client::pda;
use calor_tests::fixtures::CALOR;
use calor_tests::market::{Market, CALOR_USD_MICRO, H100_SXM};
use calor_tests::outcome::OutcomeExt;
use calor_tests::pyth::PythPrice;
use calor_tests::spl::{self, TokenProgram};
use calor_tests::staking::Staker;
use solana_instruction::error::InstructionError;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;

const DAY: i64 = 86_400;

#[test]
fn stake_held_for_a_moment_neither_proposes_votes_nor_buys_priority() {
    let mut m = Market::new();
    let honest = m.seasoned_staker(100_000 * CALOR);
    let (hid, out) = m.try_propose(
        &honest,
        ProposalAction::SetProviderApproval {
            provider: m.operator.provider,
            approved: true,
        },
    );
    out.expect_ok("an honest proposal");

    // the attack: stake 20,000, then in the next slot propose, vote and leave in one go
    let attacker = m.staker();
    m.try_stake(&attacker, 20_000 * CALOR).expect_ok("stake");
    m.env.advance_secs(1);
    let id = m.pool().proposal_count;
    let grab = ProposalAction::TransferAuthority {
        new_authority: attacker.key(),
    };
    let tokens = m.stake_tokens(attacker.token);
    let one_go = [
        ix::propose(attacker.key(), id, grab),
        ix::vote(attacker.key(), id, true),
        ix::unstake(attacker.key(), tokens, None, 20_000 * CALOR),
    ];
    m.env
        .send(&one_go, &attacker.keypair, &[])
        .expect_calor_err(CalorError::InsufficientStakeToPropose);
    // an epoch later the stake is active (it earns) but not seasoned: still no voice
    m.advance_epoch().expect_ok("advance");
    m.try_propose(&attacker, grab)
        .1
        .expect_calor_err(CalorError::InsufficientStakeToPropose);
    m.try_vote(&attacker, hid, false)
        .expect_calor_err(CalorError::NoVotingPower);
    // seasoned stake proposes, but its vote holds it: proposing and leaving in one go fails
    m.advance_epoch().expect_ok("advance");
    let id = m.pool().proposal_count;
    let record = m.record_for(&attacker.key());
    let one_go = [
        ix::propose(attacker.key(), id, grab),
        ix::vote(attacker.key(), id, true),
        ix::unstake(attacker.key(), tokens, record, 20_000 * CALOR),
    ];
    m.env
        .send(&one_go, &attacker.keypair, &[])
        .expect_calor_err(CalorError::StakeLocked);

    // routing priority: stake, end the epoch, open with priority and unstake in one go
    let (renter, token) = m.renter();
    let buyer = Staker {
        keypair: renter.insecure_clone(),
        token,
    };
    let pool = m.pool();
    m.env
        .warp_to_timestamp(pool.epoch_started_at + i64::from(m.config().params.staking.epoch_secs));
    m.refresh_sol_price();
    let (mint, program) = (m.protocol.calor_mint, m.protocol.token_program.id());
    let bought = [
        ix::stake(renter.pubkey(), m.stake_tokens(token), 100_000 * CALOR),
        ix::advance_epoch(renter.pubkey(), pool.epoch, mint, program),
        ix::open_rental_sol_with(
            renter.pubkey(),
            H100_SXM,
            m.price_update,
            Market::open_args(1, 2),
            true,
        ),
    ];
    m.env
        .send(&bought, &renter, &[])
        .expect_ok("stake, advance, open");
    let rental = pda::rental(&renter.pubkey(), 1);
    assert_eq!(
        m.rental(&rental).priority,
        0,
        "priority cannot be bought for a moment"
    );
    m.try_unstake(&buyer, 100_000 * CALOR)
        .expect_ok("and the stake leaves freely");
}

#[test]
fn a_prioritised_rental_holds_its_stake_until_it_is_settled() {
    let mut m = Market::new();
    let (renter, token) = m.renter();
    let staker = Staker {
        keypair: renter.insecure_clone(),
        token,
    };
    m.try_stake(&staker, 15_000 * CALOR).expect_ok("stake");
    m.advance_epoch().expect_ok("advance");
    m.advance_epoch().expect_ok("advance: seasoned");
    m.refresh_sol_price();
    m.heartbeat(&m.operator.authority.insecure_clone(), 0)
        .expect_ok("heartbeat");
    let open = ix::open_rental_sol_with(
        renter.pubkey(),
        H100_SXM,
        m.price_update,
        Market::open_args(1, 2),
        true,
    );
    m.env.send(&[open], &renter, &[]).expect_ok("open");
    let rental = pda::rental(&renter.pubkey(), 1);
    assert_eq!(m.rental(&rental).priority, 2, "10,000 Calor tier");
    let stake = m.stake_of(&renter.pubkey());
    assert_eq!(
        (stake.priority_rentals, stake.priority_floor),
        (1, 10_000 * CALOR)
    );
    // the tier's 10,000 stay; the 5,000 above them may go
    m.try_unstake(&staker, 5_001 * CALOR)
        .expect_calor_err(CalorError::StakeHeldForPriority);
    m.try_unstake(&staker, 5_000 * CALOR)
        .expect_ok("above the floor");
    // cancelled and settled, it lets go; settling needs the stake
    m.env
        .send(&[ix::cancel(renter.pubkey(), rental, None)], &renter, &[])
        .expect_ok("cancel");
    let without = ix::settle_sol(
        rental,
        SettleParties {
            prioritised: false,
            ..SettleParties::of(&m.rental(&rental))
        },
    );
    m.env
        .send(&[without], &renter, &[])
        .expect_calor_err(CalorError::StakeRequired);
    m.settle_sol(&rental, &renter).expect_ok("settle");
    let stake = m.stake_of(&renter.pubkey());
    assert_eq!((stake.priority_rentals, stake.priority_floor), (0, 0));
    m.try_unstake(&staker, 10_000 * CALOR)
        .expect_ok("all of it now");
}

#[test]
fn an_extension_never_reprices_time_already_served() {
    let mut m = Market::new();
    let (renter, _) = m.renter();
    // 2 h bought at SOL $150 (± $0.10): 33,355,571 lamports
    let rental = m.running_sol_rental(&renter, 1, 2);
    let first = m.rental(&rental).escrowed;
    m.env.advance_secs(7_199);
    // SOL doubles: hours now cost half the lamports. The renter extends by 2,158 h, stops at
    // once and settles, all in one transaction.
    let now = m.env.clock().unix_timestamp;
    m.set_sol_price(&PythPrice::sol_usd(30_000, 10, now));
    let node = m.operator.node(0);
    let extend = ix::extend_sol(
        renter.pubkey(),
        rental,
        m.price_update,
        Market::extend_args(2_158),
    );
    let complete = ix::complete(renter.pubkey(), rental, node);
    let parties = SettleParties::of(&m.rental(&rental));
    let tx = m
        .env
        .send(
            &[extend, complete, ix::settle_sol(rental, parties)],
            &renter,
            &[],
        )
        .expect_ok("extend, stop and settle");
    let ended = &tx.events::<RentalEnded>()[0];
    assert_eq!(
        (ended.reason, ended.served_secs),
        (EndReason::Completed, 7_199)
    );
    let extended = &tx.events::<calor::events::RentalExtended>()[0];
    let settled = &tx.events::<RentalSettled>()[0];
    // the 7,199 s are paid at the first purchase's price, exactly as without the extension
    let served_value = first * 7_199 / 7_200;
    assert_eq!(settled.provider_amount + settled.fee, served_value);
    assert_eq!(settled.refund, first - served_value + extended.added_escrow);
}

#[test]
fn renters_cap_what_an_extension_or_a_calor_payment_takes() {
    let mut m = Market::new();
    let (renter, token) = m.renter();
    let rental = m.running_sol_rental(&renter, 1, 2);
    // 1 h at $149.90: 16,677,786 lamports
    let capped = ExtendArgs {
        hours: 1,
        max_payment: 16_677_785,
    };
    m.env
        .send(
            &[ix::extend_sol(
                renter.pubkey(),
                rental,
                m.price_update,
                capped,
            )],
            &renter,
            &[],
        )
        .expect_calor_err(CalorError::PaymentAboveMaximum);
    // Calor: 4 h cost 20 Calor at $0.25
    let args = calor::instructions::OpenRentalArgs {
        max_payment: 20 * CALOR - 1,
        ..Market::open_args(2, 4)
    };
    m.try_open_calor(&renter, token, H100_SXM, args)
        .expect_calor_err(CalorError::PaymentAboveMaximum);
    let args = calor::instructions::OpenRentalArgs {
        max_payment: 20 * CALOR,
        ..Market::open_args(2, 4)
    };
    m.try_open_calor(&renter, token, H100_SXM, args)
        .expect_ok("at the cap");
    let op = m.operator.authority.insecure_clone();
    let node = m.list_node(
        &op,
        H100_SXM,
        calor_tests::market::US_EAST,
        calor_tests::market::RATE,
    );
    let calor_rental = pda::rental(&renter.pubkey(), 2);
    m.provider_op(ix::claim, &op, node, calor_rental)
        .expect_ok("claim");
    m.provider_op(ix::start, &op, node, calor_rental)
        .expect_ok("start");
    let (mint, program) = (m.protocol.calor_mint, m.protocol.token_program.id());
    let capped = ExtendArgs {
        hours: 2,
        max_payment: 10 * CALOR - 1,
    };
    m.env
        .send(
            &[ix::extend_calor(
                renter.pubkey(),
                calor_rental,
                mint,
                token,
                program,
                capped,
            )],
            &renter,
            &[],
        )
        .expect_calor_err(CalorError::PaymentAboveMaximum);
}

#[test]
fn the_posted_calor_rate_moves_at_most_ten_percent_an_hour() {
    let mut m = Market::new();
    // posted at $0.25 when the market was set up, this very second: no move yet
    m.post_calor_price(CALOR_USD_MICRO + 1)
        .expect_calor_err(CalorError::CalorPriceMoveTooLarge);
    m.env.advance_secs(1_800);
    // half an hour: 5%
    m.post_calor_price(CALOR_USD_MICRO * 105 / 100 + 1)
        .expect_calor_err(CalorError::CalorPriceMoveTooLarge);
    m.post_calor_price(CALOR_USD_MICRO * 105 / 100)
        .expect_ok("+5% in 30 min");
    m.env.advance_secs(3_600);
    let now = CALOR_USD_MICRO * 105 / 100;
    m.post_calor_price(now - now / 10 - 1)
        .expect_calor_err(CalorError::CalorPriceMoveTooLarge);
    m.post_calor_price(now - now / 10)
        .expect_ok("-10% in an hour");
}

#[test]
fn the_subsidy_budget_caps_each_epoch_and_renews() {
    let mut m = Market::new();
    let whale = m.seasoned_staker(100_000 * CALOR);
    // governance allows 30 Calor of commitments per epoch: one 4 h rental reserves 28
    let (id, out) = m.try_propose(
        &whale,
        ProposalAction::SetSubsidyBudget {
            per_epoch: 30 * CALOR,
        },
    );
    out.expect_ok("propose");
    m.env.advance_secs(1);
    m.try_vote(&whale, id, true).expect_ok("vote");
    m.env.advance_secs(5 * DAY);
    m.try_execute(id, None).expect_ok("execute");
    m.refresh_prices();
    let (renter, token) = m.renter();
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(1, 4))
        .expect_ok("first");
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(2, 4))
        .expect_calor_err(CalorError::SubsidyBudgetExhausted);
    // SOL rentals draw nothing from it
    m.try_open_sol(&renter, H100_SXM, Market::open_args(3, 2))
        .expect_ok("SOL");
    m.env.advance_secs(DAY);
    m.refresh_prices();
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(2, 4))
        .expect_ok("the next epoch's budget");
}

#[test]
fn a_calor_provider_earns_what_a_sol_provider_earns() {
    let mut m = Market::new();
    let (renter, token) = m.renter();
    let op = m.operator.authority.insecure_clone();
    // 4 h at $2.50 served in full, once in SOL, once in Calor
    let sol = pda::rental(&renter.pubkey(), 1);
    m.try_open_sol(&renter, H100_SXM, Market::open_args(1, 4))
        .expect_ok("open SOL");
    m.provider_op(ix::claim, &op, 0, sol).expect_ok("claim");
    m.provider_op(ix::start, &op, 0, sol).expect_ok("start");
    m.env.advance_secs(4 * 3_600);
    m.env
        .send(&[ix::expire(sol, m.operator.node(0))], &op, &[])
        .expect_ok("expire");
    let paid_sol = m
        .settle_sol(&sol, &op)
        .expect_ok("settle")
        .events::<RentalSettled>()[0]
        .provider_amount;
    m.refresh_prices();
    m.heartbeat(&op, 0).expect_ok("heartbeat");
    let calor = pda::rental(&renter.pubkey(), 2);
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(2, 4))
        .expect_ok("open Calor");
    m.provider_op(ix::claim, &op, 0, calor).expect_ok("claim");
    m.provider_op(ix::start, &op, 0, calor).expect_ok("start");
    m.env.advance_secs(4 * 3_600);
    m.env
        .send(&[ix::expire(calor, m.operator.node(0))], &op, &[])
        .expect_ok("expire");
    let payout = m.operator.payout_token;
    let paid_calor = m
        .settle_calor(&calor, token, Some(payout), &op)
        .expect_ok("settle")
        .events::<RentalSettled>()[0]
        .provider_amount;
    // $9.50 each: 95% of $10, in lamports at $149.90 and in Calor at $0.25
    let usd_sol = paid_sol as f64 / 1e9 * 149.90;
    let usd_calor = paid_calor as f64 / 1e6 * 0.25;
    assert!((usd_sol - 9.5).abs() < 1e-6, "{usd_sol}");
    assert!((usd_calor - 9.5).abs() < 1e-6, "{usd_calor}");
}

#[test]
fn a_heartbeat_from_before_the_start_cannot_end_the_rental_for_free() {
    let mut m = Market::new();
    let (renter, _) = m.renter();
    let op = m.operator.authority.insecure_clone();
    let node = m.operator.node(0);
    m.heartbeat(&op, 0).expect_ok("heartbeat");
    m.try_open_sol(&renter, H100_SXM, Market::open_args(1, 2))
        .expect_ok("open");
    let rental = pda::rental(&renter.pubkey(), 1);
    m.env.advance_secs(280);
    m.provider_op(ix::claim, &op, 0, rental).expect_ok("claim");
    m.env.advance_secs(10);
    m.provider_op(ix::start, &op, 0, rental).expect_ok("start");
    // 11 s after the start the last heartbeat before it is 301 s old, but the start counts
    m.env.advance_secs(11);
    m.env
        .send(&[ix::reclaim(renter.pubkey(), rental, node)], &renter, &[])
        .expect_calor_err(CalorError::HeartbeatFresh);
    assert_eq!(
        m.node_state(&node).last_heartbeat,
        m.rental(&rental).started_at
    );
}

/// A running-then-completed Calor rental of `renter` (1 h of 4 served).
fn completed_calor_rental(m: &mut Market, renter: &Keypair, token: Pubkey) -> Pubkey {
    let op = m.operator.authority.insecure_clone();
    m.try_open_calor(renter, token, H100_SXM, Market::open_args(1, 4))
        .expect_ok("open");
    let rental = pda::rental(&renter.pubkey(), 1);
    m.provider_op(ix::claim, &op, 0, rental).expect_ok("claim");
    m.provider_op(ix::start, &op, 0, rental).expect_ok("start");
    m.env.advance_secs(3_600);
    m.complete(renter, &rental).expect_ok("complete");
    rental
}

#[test]
fn a_closed_renter_account_neither_blocks_settlement_nor_costs_the_settler() {
    let mut m = Market::new();
    let (renter, token) = m.renter();
    let rental = completed_calor_rental(&mut m, &renter, token);
    // the renter empties and closes its Calor account
    let (_, elsewhere) = m.renter();
    let left = spl::balance(&m.env, &token);
    let empty = spl_token::instruction::transfer(
        &spl_token::ID,
        &token,
        &elsewhere,
        &renter.pubkey(),
        &[],
        left,
    )
    .unwrap();
    let close = spl_token::instruction::close_account(
        &spl_token::ID,
        &token,
        &renter.pubkey(),
        &renter.pubkey(),
        &[],
    )
    .unwrap();
    m.env
        .send(&[empty, close], &renter, &[])
        .expect_ok("close the account");

    let cranker = m.env.funded_keypair();
    let before = m.env.lamports(&cranker.pubkey());
    let settled = m
        .settle_calor(&rental, token, Some(m.operator.payout_token), &cranker)
        .expect_ok("settle");
    assert_eq!(
        before - m.env.lamports(&cranker.pubkey()),
        5_000,
        "only its fee"
    );
    let e = &settled.events::<RentalSettled>()[0];
    assert!(e.refund_held);
    assert_eq!(e.provider_amount, 9_500_000, "the provider is paid at once");
    assert_eq!(m.rental(&rental).state(), RentalState::RefundHeld);
    let escrow = pda::escrow(&rental);
    assert_eq!(spl::balance(&m.env, &escrow), e.refund);
    m.settle_calor(&rental, token, Some(m.operator.payout_token), &cranker)
        .expect_calor_err(CalorError::AlreadySettled);

    // later, into any Calor account of the renter (anyone may send it)
    let (mint, program) = (m.protocol.calor_mint, m.protocol.token_program.id());
    m.env
        .send(
            &[ix::claim_refund(
                rental,
                renter.pubkey(),
                mint,
                token,
                program,
            )],
            &cranker,
            &[],
        )
        .expect_calor_err(CalorError::UnusableTokenAccount);
    let new_token = m.fund_renter(&renter);
    let before_tokens = spl::balance(&m.env, &new_token);
    let lamports = m.env.lamports(&renter.pubkey());
    m.env
        .send(
            &[ix::claim_refund(
                rental,
                renter.pubkey(),
                mint,
                new_token,
                program,
            )],
            &cranker,
            &[],
        )
        .expect_ok("claim the refund");
    assert_eq!(spl::balance(&m.env, &new_token) - before_tokens, e.refund);
    assert!(m.env.account(&rental).is_none() && m.env.account(&escrow).is_none());
    assert!(
        m.env.lamports(&renter.pubkey()) > lamports,
        "both rents back to the renter"
    );
}

#[test]
fn an_account_that_requires_memos_cannot_block_settlement_either() {
    use anchor_spl::token_2022::spl_token_2022::{self, extension};
    let mut m = Market::new_with(TokenProgram::Token2022);
    let (renter, token) = m.renter();
    let rental = completed_calor_rental(&mut m, &renter, token);
    // a memo-requiring account of the renter
    let account = Keypair::new();
    let len =
        extension::ExtensionType::try_calculate_account_len::<spl_token_2022::state::Account>(&[
            extension::ExtensionType::MemoTransfer,
        ])
        .unwrap();
    let rent = m.env.rent_exempt(len);
    let program = spl_token_2022::ID;
    let ixs = [
        anchor_lang::solana_program::system_instruction::create_account(
            &renter.pubkey(),
            &account.pubkey(),
            rent,
            len as u64,
            &program,
        ),
        spl_token_2022::instruction::initialize_account3(
            &program,
            &account.pubkey(),
            &m.protocol.calor_mint,
            &renter.pubkey(),
        )
        .unwrap(),
        extension::memo_transfer::instruction::enable_required_transfer_memos(
            &program,
            &account.pubkey(),
            &renter.pubkey(),
            &[],
        )
        .unwrap(),
    ];
    m.env
        .send(&ixs, &renter, &[&account])
        .expect_ok("a memo-requiring account");
    let settled = m
        .settle_calor(
            &rental,
            account.pubkey(),
            Some(m.operator.payout_token),
            &renter,
        )
        .expect_ok("settle");
    assert!(settled.events::<RentalSettled>()[0].refund_held);
    let (mint, program) = (m.protocol.calor_mint, m.protocol.token_program.id());
    m.env
        .send(
            &[ix::claim_refund(
                rental,
                renter.pubkey(),
                mint,
                token,
                program,
            )],
            &renter,
            &[],
        )
        .expect_ok("claim into the plain account");
}

#[test]
fn a_look_alike_escrow_is_refused() {
    let mut m = Market::new();
    let (renter, token) = m.renter();
    let rental = completed_calor_rental(&mut m, &renter, token);
    // anyone can make a token account whose owner is the rental PDA, and fill it
    let (mint, program) = (m.protocol.calor_mint, m.protocol.token_program.id());
    let admin = m.authority.insecure_clone();
    let fake =
        spl::create_token_account(&mut m.env, &admin, &mint, &rental, m.protocol.token_program);
    let minter = m.protocol.mint_authority.insecure_clone();
    spl::mint_to(
        &mut m.env,
        &minter,
        &mint,
        &fake,
        100 * CALOR,
        m.protocol.token_program,
    );
    let mut settle = ix::settle_calor(
        rental,
        SettleParties::of(&m.rental(&rental)),
        mint,
        program,
        calor_client::instructions::CalorPayouts {
            renter_token: token,
            provider_token: Some(m.operator.payout_token),
        },
    );
    settle.accounts[2].pubkey = fake;
    // closing it names the real escrow's seeds: the runtime refuses the look-alike
    m.env
        .send(&[settle], &renter, &[])
        .expect_tx_err(TransactionError::InstructionError(
            0,
            InstructionError::PrivilegeEscalation,
        ));
    let mut extend = ix::extend_calor(
        renter.pubkey(),
        rental,
        mint,
        token,
        program,
        Market::extend_args(1),
    );
    extend.accounts[4].pubkey = fake;
    m.env
        .send(&[extend], &renter, &[])
        .expect_calor_err(CalorError::WrongEscrow);
    m.settle_calor(&rental, token, Some(m.operator.payout_token), &renter)
        .expect_ok("the real escrow settles");
}
