//! Two clusters in two regions on one chain: pins are honoured and nothing is claimed twice.
mod support;

use std::time::Duration;

use calor_client::accounts::RentalState;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_rentals_go_to_their_region_and_none_is_claimed_twice() {
    let mut stack = Stack::new("regions", &[1, 2]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    stack.start_provisioner(1, &ProvisionerOptions::default());
    let mut renter = Renter::new(&stack).await;

    let to_region_2 = renter.open(&stack, Some(2)).await;
    let r = stack
        .wait_rental(
            &to_region_2,
            "running",
            Duration::from_secs(60),
            is_state(RentalState::Running),
        )
        .await
        .unwrap();
    assert_eq!(
        r.node,
        Some(stack.clusters[1].nodes[0]),
        "served in its pinned region"
    );

    // Region 2's only node is busy now; an unpinned rental can only go to region 1, and the
    // two provisioners see it at the same time.
    let unpinned = renter.open(&stack, None).await;
    let r = stack
        .wait_rental(
            &unpinned,
            "running",
            Duration::from_secs(60),
            is_state(RentalState::Running),
        )
        .await
        .unwrap();
    assert_eq!(r.node, Some(stack.clusters[0].nodes[0]));

    let containers = stack.containers().await;
    assert_eq!(containers.len(), 2, "{containers:?}");
    assert!(containers.contains(&(to_region_2, stack.clusters[1].provider, true)));
    assert!(containers.contains(&(unpinned, stack.clusters[0].provider, true)));

    // A third rental pinned to region 2 waits while region 2 is busy; once region 2's rental
    // ends it is served there, never in region 1.
    let waiting = renter.open(&stack, Some(2)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        stack.rental(&waiting).await.unwrap().state,
        RentalState::Queued
    );
    let first = stack.rental(&to_region_2).await.unwrap();
    stack.time_travel(first.ends_at + 1).await;
    stack
        .wait_rental(&to_region_2, "settled", Duration::from_secs(60), is_gone)
        .await;
    let r = stack
        .wait_rental(
            &waiting,
            "running",
            Duration::from_secs(60),
            is_state(RentalState::Running),
        )
        .await
        .unwrap();
    assert_eq!(r.node, Some(stack.clusters[1].nodes[0]));
    let claims_lost = stack
        .log(0)
        .matches("another provisioner claimed it first")
        .count()
        + stack
            .log(1)
            .matches("another provisioner claimed it first")
            .count();
    println!("claims lost to the other cluster (normal, not errors): {claims_lost}");
}
