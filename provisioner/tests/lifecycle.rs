//! End to end against the local chain and the container engine: a rental goes from open to
//! a running instance the renter logs into, to its end, with every lamport accounted for.
mod support;

use std::time::Duration;

use calor_client::accounts::RentalState;
use calor_client::{instructions as ix, pda};
use solana_signer::Signer;
use support::*;

const WAIT: Duration = Duration::from_secs(60);

/// What the renter, the provider and the protocol must each receive at settlement.
struct Expected {
    rental_lamports: u64,
    escrowed: u64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rental_runs_until_expiry_and_is_settled_exactly() {
    let mut stack = Stack::new("expiry", &[1]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let mut renter = Renter::new(&stack).await;
    let rental = renter.open(&stack, None).await;
    let after_open = renter.balance(&stack).await;
    let opened = stack.rental(&rental).await.unwrap();
    let expected = Expected {
        rental_lamports: stack.chain().balance(&rental).await.unwrap(),
        escrowed: opened.escrowed,
    };
    let provider_before = stack
        .chain()
        .balance(&stack.clusters[0].provider)
        .await
        .unwrap();
    let config_before = stack.chain().balance(&pda::config().0).await.unwrap();

    let running = stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    assert_eq!(running.node(), Some(stack.clusters[0].nodes[0]));

    // The renter logs in with the private key matching the one in the rental.
    let port = wait_ssh_port(&stack.clusters[0], &rental).await;
    let out = renter.ssh(port, "cat /root/.ssh/authorized_keys && mountpoint -q /workspace && echo mounted && echo hi > /workspace/f && cat /workspace/f");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ssh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(&renter.ssh_public_key), "{stdout}");
    assert!(
        stdout.contains("mounted") && stdout.contains("hi"),
        "{stdout}"
    );
    assert_eq!(stack.containers().await.len(), 1);

    // Past the paid hour the provisioner stops the instance, records the expiry and settles.
    stack.time_travel(running.ends_at + 1).await;
    stack.wait_rental(&rental, "settled", WAIT, is_gone).await;
    assert!(
        stack.containers().await.is_empty(),
        "the instance is removed"
    );

    let split = settlement(&running, running.paid_secs());
    assert_eq!(split.refund, 0, "a fully served hour refunds nothing");
    let rent = expected.rental_lamports - expected.escrowed;
    assert_eq!(
        renter.balance(&stack).await,
        after_open + rent,
        "the renter gets the rent back"
    );
    assert_eq!(
        stack
            .chain()
            .balance(&stack.clusters[0].provider)
            .await
            .unwrap(),
        provider_before + split.provider
    );
    assert_eq!(
        stack.chain().balance(&pda::config().0).await.unwrap(),
        config_before + split.fee
    );
    assert!(stack.log(0).contains("expired"));
    stack.assert_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_stop_pays_the_served_time_and_refunds_the_rest() {
    let mut stack = Stack::new("early-stop", &[1]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let mut renter = Renter::new(&stack).await;
    let rental = renter.open(&stack, Some(1)).await;
    let after_open = renter.balance(&stack).await;
    let rental_lamports = stack.chain().balance(&rental).await.unwrap();
    let provider_before = stack
        .chain()
        .balance(&stack.clusters[0].provider)
        .await
        .unwrap();
    let running = stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();

    // Half an hour in, the renter stops it.
    stack.time_travel(running.started_at + 1_800).await;
    let complete = ix::complete(renter.key.pubkey(), rental, running.node().unwrap());
    let fee = stack
        .send_paying_fee("complete", &[complete], &renter.key)
        .await;
    stack.wait_rental(&rental, "settled", WAIT, is_gone).await;
    assert!(stack.containers().await.is_empty());

    // The clock moves on between the time travel and the stop: find the served seconds the
    // provider was paid for, then check the renter got exactly the rest.
    let provider_gain = stack
        .chain()
        .balance(&stack.clusters[0].provider)
        .await
        .unwrap()
        - provider_before;
    let served = (1_800..1_830)
        .find(|s| settlement(&running, *s).provider == provider_gain)
        .expect("the provider was paid for about half an hour");
    let split = settlement(&running, served);
    assert!(split.refund > running.escrowed / 2 - running.escrowed / 50);
    let rent = rental_lamports - running.escrowed;
    assert_eq!(
        renter.balance(&stack).await,
        after_open - fee + rent + split.refund
    );
    stack.assert_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_that_cannot_start_fails_with_a_full_refund() {
    let mut stack = Stack::new("bad-image", &[1]).await;
    let options = ProvisionerOptions {
        image: Some("localhost/calor-no-such-image:0".into()),
        ..Default::default()
    };
    stack.assert_fails_with_full_refund(&options).await;
    assert!(stack.containers().await.is_empty());
    assert!(
        stack.log(0).contains("failing the rental"),
        "{}",
        stack.log(0)
    );
    stack.assert_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_rental_can_be_cancelled() {
    let mut stack = Stack::new("cancel", &[1]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let mut renter = Renter::new(&stack).await;
    // Pinned to a region with no cluster: it stays queued.
    let rental = renter.open(&stack, Some(3)).await;
    let after_open = renter.balance(&stack).await;
    let rental_lamports = stack.chain().balance(&rental).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let queued = stack.rental(&rental).await.unwrap();
    assert_eq!(queued.state(), RentalState::Queued);

    let cancel = ix::cancel(renter.key.pubkey(), rental, None);
    let settle = ix::settle_sol(
        rental,
        calor_client::instructions::SettleParties::of(&queued),
    );
    let fee = stack
        .send_paying_fee("cancel + settle", &[cancel, settle], &renter.key)
        .await;
    assert!(stack.rental(&rental).await.is_none());
    assert_eq!(
        renter.balance(&stack).await,
        after_open + rental_lamports - fee
    );
    stack.assert_clean().await;
}

/// A Calor rental is settled by the provisioner too, and its provider is paid without
/// waiting for the renter: the payout wallet's Calor account is created by the operator if
/// missing, and a renter who has closed its Calor account finds its refund held for
/// `claim_refund`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calor_rental_pays_the_provider_without_waiting_for_the_renter() {
    use anchor_spl::token::spl_token::instruction as token_ix;
    let mut stack = Stack::new("calor", &[1]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let mint = stack.protocol.calor_mint;
    let payout = stack.clusters[0].operator.pubkey();
    let payout_token = pda::associated_token(&payout, &mint, &spl_token_id());
    assert_eq!(stack.chain().balance(&payout_token).await.unwrap(), 0);

    let mut renter = Renter::new(&stack).await;
    let funding = 10_000 * 10u64.pow(u32::from(calor_client::catalog::CALOR_DECIMALS));
    let rental = renter.open_calor(&stack, funding).await;
    let running = stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    assert_eq!(
        running.payment(),
        calor_client::accounts::PaymentKind::Calor
    );

    // The renter spends what is left and closes its Calor account.
    let renter_token = pda::associated_token(&renter.key.pubkey(), &mint, &spl_token_id());
    let left = stack.chain().token_balance(&renter_token).await.unwrap();
    let me = renter.key.pubkey();
    let burn = token_ix::burn(&spl_token_id(), &renter_token, &mint, &me, &[], left).unwrap();
    let close = token_ix::close_account(&spl_token_id(), &renter_token, &me, &me, &[]).unwrap();
    stack
        .chain()
        .send("empty and close", &[burn, close], &renter.key, &[])
        .await
        .unwrap();

    // Half an hour in, the renter stops it; the provisioner settles.
    stack.time_travel(running.started_at + 1_800).await;
    let complete = ix::complete(me, rental, running.node().unwrap());
    stack
        .chain()
        .send("complete", &[complete], &renter.key, &[])
        .await
        .unwrap();
    let held = stack
        .wait_rental(
            &rental,
            "settled with its refund held",
            WAIT,
            is_state(RentalState::RefundHeld),
        )
        .await
        .unwrap();
    let paid = stack.chain().token_balance(&payout_token).await.unwrap();
    let served = (1_800..1_830)
        .find(|s| settlement(&running, *s).provider == paid)
        .unwrap_or_else(|| panic!("the provider was paid {paid} for about half an hour"));
    let split = settlement(&running, served);
    assert!(split.refund > 0);
    assert!(stack.containers().await.is_empty());
    let _ = held;

    // Whenever the renter comes back with a Calor account, the refund is exactly the rest.
    let create = ix::create_associated_token(me, me, mint, spl_token_id());
    let claim = ix::claim_refund(rental, me, mint, renter_token, spl_token_id());
    stack
        .chain()
        .send("claim_refund", &[create, claim], &renter.key, &[])
        .await
        .unwrap();
    assert_eq!(
        stack.chain().token_balance(&renter_token).await.unwrap(),
        split.refund
    );
    stack.wait_rental(&rental, "closed", WAIT, is_gone).await;
    wait_metric(&stack.clusters[0], "calor_rentals_settled_total 1").await;
    stack.assert_clean().await;
}
