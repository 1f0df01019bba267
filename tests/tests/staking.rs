//! Staking, rewards, priority and governance against the real calor.so.
use calor::errors::CalorError;
use calor::events::{EpochAdvanced, RentalSettled};
use calor_client::{instructions as ix, pda, AccountMeta};
use calor_tests::fixtures::{CALOR, CALOR_DECIMALS};
use calor_tests::market::{Market, CALOR_USD_MICRO, H100_SXM};
use calor_tests::outcome::OutcomeExt;
use calor_tests::spl;
use solana_signer::Signer;

#[test]
fn stake_earns_from_the_next_epoch_pro_rata() {
    let mut m = Market::new();
    let (a, b, c) = (m.staker(), m.staker(), m.staker());
    m.try_stake(&a, 300 * CALOR).expect_ok("stake a");
    m.try_stake(&b, 100 * CALOR).expect_ok("stake b");
    assert_eq!(m.stake_of(&a.key()).pending, 300 * CALOR);
    assert_eq!(spl::balance(&m.env, &pda::stake_vault()), 400 * CALOR);

    // epoch 0: nobody was active, so its rewards wait
    m.fund_rewards(1_000);
    let e = m.advance_epoch().expect_ok("advance 0");
    assert_eq!(e.events::<EpochAdvanced>()[0].distributed, 0);
    // the record's rent, paid by whoever advanced the epoch (57 bytes)
    assert_eq!(m.env.lamports(&pda::epoch_record(0)), 1_287_600);
    assert_eq!(m.pool().active_stake, 400 * CALOR);

    // epoch 1: 401,000 over 400 Calor → a 300,750, b 100,250
    m.fund_rewards(400_000);
    m.advance_epoch().expect_ok("advance 1");
    assert_eq!(m.pool().reserved_rewards, 401_000);

    // c joins during epoch 2 and gets nothing of it
    m.try_stake(&c, 200 * CALOR).expect_ok("stake c");
    m.fund_rewards(600_000);
    m.advance_epoch().expect_ok("advance 2");
    m.try_claim_rewards(&c)
        .expect_calor_err(CalorError::NothingToClaim);

    let before = spl::balance(&m.env, &a.token);
    m.try_claim_rewards(&a).expect_ok("claim a");
    assert_eq!(spl::balance(&m.env, &a.token) - before, 300_750 + 450_000);
    m.try_claim_rewards(&a)
        .expect_calor_err(CalorError::NothingToClaim);
    let before = spl::balance(&m.env, &b.token);
    m.try_claim_rewards(&b).expect_ok("claim b");
    assert_eq!(spl::balance(&m.env, &b.token) - before, 100_250 + 150_000);

    // epoch 3: 700,000 over 600 Calor, c now included: ⌊700,000 × 2/6⌋ = 233,333
    m.fund_rewards(700_000);
    m.advance_epoch().expect_ok("advance 3");
    let before = spl::balance(&m.env, &c.token);
    m.try_claim_rewards(&c).expect_ok("claim c");
    assert_eq!(spl::balance(&m.env, &c.token) - before, 233_333);
    let pool = m.pool();
    assert!(pool.rewards_claimed <= pool.rewards_distributed);
    assert_eq!(
        spl::balance(&m.env, &pda::rewards_vault()),
        1_000 + 400_000 + 600_000 + 700_000 - pool.rewards_claimed
    );
}

#[test]
fn calor_fees_at_settlement_reach_stakers() {
    let mut m = Market::new();
    let staker = m.active_staker(1_000 * CALOR);
    let (renter, renter_token) = m.renter();
    let rental = pda::rental(&renter.pubkey(), 1);
    let op = m.operator.authority.insecure_clone();
    let admin = m.authority.insecure_clone();
    m.env
        .send(
            &[ix::post_calor_price(admin.pubkey(), CALOR_USD_MICRO)],
            &admin,
            &[],
        )
        .expect_ok("post price");
    m.heartbeat(&op, 0).expect_ok("heartbeat");
    m.try_open_calor(&renter, renter_token, H100_SXM, Market::open_args(1, 4))
        .expect_ok("open");
    m.provider_op(ix::claim, &op, 0, rental).expect_ok("claim");
    m.provider_op(ix::start, &op, 0, rental).expect_ok("start");
    m.env.advance_secs(3_600);
    m.complete(&renter, &rental).expect_ok("complete");
    let payout = m.operator.payout_token;
    let settled = m
        .settle_calor(&rental, renter_token, Some(payout), &op)
        .expect_ok("settle");
    // 1 h of a 20-Calor rental worth 40 Calor at market: fee 5% of 10 Calor = 500,000, half
    // of it to stakers (moved to the rewards vault when the epoch ends)
    assert_eq!(settled.events::<RentalSettled>()[0].staker_rewards, 250_000);
    m.advance_epoch().expect_ok("advance");
    let before = spl::balance(&m.env, &staker.token);
    m.try_claim_rewards(&staker).expect_ok("claim");
    assert_eq!(spl::balance(&m.env, &staker.token) - before, 250_000);
}

#[test]
fn unstake_returns_tokens_at_once_even_when_paused() {
    let mut m = Market::new();
    let s = m.staker();
    let start = spl::balance(&m.env, &s.token);
    m.try_stake(&s, 500 * CALOR).expect_ok("stake");
    m.try_unstake(&s, 501 * CALOR)
        .expect_calor_err(CalorError::InsufficientStake);
    m.try_unstake(&s, 0)
        .expect_calor_err(CalorError::ZeroAmount);
    m.try_stake(&s, 0).expect_calor_err(CalorError::ZeroAmount);

    m.set_paused(true);
    m.try_stake(&s, CALOR).expect_calor_err(CalorError::Paused);
    m.try_unstake(&s, 200 * CALOR)
        .expect_ok("unstake while paused");
    assert_eq!(m.stake_of(&s.key()).pending, 300 * CALOR);
    assert_eq!(m.pool().pending_stake, 300 * CALOR);
    m.set_paused(false);

    // after an epoch the rest is active; adding more keeps it apart as pending
    m.advance_epoch().expect_ok("advance");
    m.try_stake(&s, 50 * CALOR).expect_ok("add");
    let st = m.stake_of(&s.key());
    assert_eq!((st.active, st.pending), (300 * CALOR, 50 * CALOR));
    // pending goes first, then active
    m.try_unstake(&s, 100 * CALOR).expect_ok("unstake");
    let st = m.stake_of(&s.key());
    assert_eq!((st.active, st.pending), (250 * CALOR, 0));
    let pool = m.pool();
    assert_eq!((pool.active_stake, pool.pending_stake), (250 * CALOR, 0));
    assert_eq!(spl::balance(&m.env, &pda::stake_vault()), 250 * CALOR);
    m.try_unstake(&s, 250 * CALOR).expect_ok("unstake all");
    assert_eq!(spl::balance(&m.env, &s.token), start);
}

#[test]
fn stake_instructions_reject_foreign_accounts_and_missing_records() {
    let mut m = Market::new();
    let (a, b) = (m.staker(), m.staker());
    m.try_stake(&a, 100 * CALOR).expect_ok("stake");

    // a token account of another mint
    let other_mint = spl::create_mint(
        &mut m.env,
        &a.keypair,
        &a.key(),
        CALOR_DECIMALS,
        m.protocol.token_program,
    );
    let other_token = spl::create_token_account(
        &mut m.env,
        &a.keypair,
        &other_mint,
        &a.key(),
        m.protocol.token_program,
    );
    let mut tokens = m.stake_tokens(other_token);
    let bad = ix::add_stake(a.key(), tokens, None, CALOR);
    m.env
        .send(&[bad], &a.keypair, &[])
        .expect_calor_err(CalorError::WrongMint);
    tokens.calor_mint = other_mint;
    let bad = ix::add_stake(a.key(), tokens, None, CALOR);
    m.env
        .send(&[bad], &a.keypair, &[])
        .expect_calor_err(CalorError::WrongMint);

    // b signs for a's stake
    let mut bad = ix::unstake(b.key(), m.stake_tokens(b.token), None, CALOR);
    bad.accounts[1] = AccountMeta::new(pda::stake(&a.key()), false);
    m.env
        .send(&[bad], &b.keypair, &[])
        .expect_err("foreign stake");

    // once the epoch a's pending tokens were added in has ended, its record is needed
    m.advance_epoch().expect_ok("advance 0");
    m.advance_epoch().expect_ok("advance 1");
    let tokens = m.stake_tokens(a.token);
    m.env
        .send(
            &[ix::add_stake(a.key(), tokens, None, CALOR)],
            &a.keypair,
            &[],
        )
        .expect_calor_err(CalorError::EpochRecordRequired);
    m.env
        .send(
            &[ix::add_stake(a.key(), tokens, Some(1), CALOR)],
            &a.keypair,
            &[],
        )
        .expect_calor_err(CalorError::WrongEpochRecord);
    m.try_stake(&a, CALOR).expect_ok("with its record");
    // an epoch cannot end early
    let payer = m.authority.insecure_clone();
    let epoch = m.pool().epoch;
    m.env
        .send(
            &[ix::advance_epoch(
                payer.pubkey(),
                epoch,
                m.protocol.calor_mint,
                m.protocol.token_program.id(),
            )],
            &payer,
            &[],
        )
        .expect_calor_err(CalorError::EpochNotEnded);
}

#[test]
fn priority_comes_from_stake_held_for_a_whole_epoch() {
    let mut m = Market::new();
    let (renter, token) = m.renter();
    let staker = calor_tests::staking::Staker {
        keypair: renter.insecure_clone(),
        token,
    };
    m.try_stake(&staker, 10_000 * CALOR).expect_ok("stake");
    let open = |m: &mut Market, id: u64| {
        m.refresh_sol_price();
        let i = ix::open_rental_sol_with(
            renter.pubkey(),
            H100_SXM,
            m.price_update,
            Market::open_args(id, 2),
            true,
        );
        m.env.send(&[i], &renter, &[])
    };
    open(&mut m, 1).expect_ok("open while pending");
    assert_eq!(m.rental(&pda::rental(&renter.pubkey(), 1)).priority, 0);
    m.advance_epoch().expect_ok("advance");
    open(&mut m, 4).expect_ok("open when just active");
    assert_eq!(m.rental(&pda::rental(&renter.pubkey(), 4)).priority, 0);
    m.advance_epoch().expect_ok("advance");
    open(&mut m, 2).expect_ok("open when seasoned");
    assert_eq!(m.rental(&pda::rental(&renter.pubkey(), 2)).priority, 2);

    // someone else's stake, or a stake without the pool, is refused
    let other = m.seasoned_staker(100_000 * CALOR);
    m.refresh_sol_price();
    let mut bad = ix::open_rental_sol_with(
        renter.pubkey(),
        H100_SXM,
        m.price_update,
        Market::open_args(3, 2),
        true,
    );
    let at = |i: &calor_client::Instruction, key| {
        i.accounts.iter().position(|a| a.pubkey == key).unwrap()
    };
    let stake_at = at(&bad, pda::stake(&renter.pubkey()));
    bad.accounts[stake_at] = AccountMeta::new(pda::stake(&other.key()), false);
    m.env
        .send(&[bad.clone()], &renter, &[])
        .expect_calor_err(CalorError::NotStakeOwner);
    let pool_at = at(&bad, pda::stake_pool());
    bad.accounts[stake_at] = AccountMeta::new(pda::stake(&renter.pubkey()), false);
    bad.accounts[pool_at] = AccountMeta::new_readonly(calor::ID, false);
    m.env
        .send(&[bad], &renter, &[])
        .expect_calor_err(CalorError::StakeWithoutPool);
}

#[test]
fn no_calor_rental_before_staking_is_set_up() {
    // its settlement pays the stakers' share into the pool's vault, so it could never settle
    let mut m = Market::without_staking();
    let (renter, token) = m.renter();
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(1, 4))
        .expect_anchor_err(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram);
    m.try_open_sol(&renter, H100_SXM, Market::open_args(2, 2))
        .expect_ok("SOL rentals do not need it");
    let stranger = m.env.funded_keypair();
    let (mint, program) = (m.protocol.calor_mint, m.protocol.token_program.id());
    m.env
        .send(
            &[ix::init_staking(stranger.pubkey(), mint, program)],
            &stranger,
            &[],
        )
        .expect_calor_err(CalorError::NotConfigAuthority);
    let admin = m.authority.insecure_clone();
    let init = ix::init_staking(
        admin.pubkey(),
        m.protocol.calor_mint,
        m.protocol.token_program.id(),
    );
    m.env
        .send(std::slice::from_ref(&init), &admin, &[])
        .expect_ok("init staking");
    m.env.send(&[init], &admin, &[]).expect_err("only once");
    // the vault starts empty: nothing funds a subsidy yet
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(1, 4))
        .expect_calor_err(CalorError::SubsidyVaultInsufficient);
    let treasury = m.protocol.treasury.insecure_clone();
    let mint_authority = m.protocol.mint_authority.insecure_clone();
    let treasury_token = m.treasury_token;
    spl::mint_to(
        &mut m.env,
        &mint_authority,
        &mint,
        &treasury_token,
        100 * CALOR,
        m.protocol.token_program,
    );
    m.env.fund(&treasury.pubkey(), 1_000_000_000);
    m.env
        .send(
            &[ix::fund_subsidy(
                treasury.pubkey(),
                m.treasury_token,
                mint,
                program,
                100 * CALOR,
            )],
            &treasury,
            &[],
        )
        .expect_ok("fund the vault");
    m.try_open_calor(&renter, token, H100_SXM, Market::open_args(1, 4))
        .expect_ok("open");
}
