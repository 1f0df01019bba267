//! Clusters in several regions on one chain: pins are honoured, unpinned work goes to the
//! nearest region with idle capacity first, and nothing is claimed twice.
mod support;

use std::time::Duration;

use calor_client::accounts::RentalState;
use support::*;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pinned_rentals_go_to_their_region_and_none_is_claimed_twice() {
    let mut stack = Stack::new("regions", &[1, 2]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    stack.start_provisioner(1, &ProvisionerOptions::default());
    stack.wait_serving(0).await;
    stack.wait_serving(1).await;
    let mut renter = Renter::new(&stack).await;

    let to_region_2 = renter.open(&stack, Some(2)).await;
    let r = stack
        .wait_rental(
            &to_region_2,
            "running",
            WAIT,
            is_state(RentalState::Running),
        )
        .await
        .unwrap();
    assert_eq!(
        r.node(),
        Some(stack.clusters[1].nodes[0]),
        "served in its pinned region"
    );

    // Region 2's only node is busy now; an unpinned rental can only go to region 1, and the
    // two provisioners see it at the same time.
    let unpinned = renter.open(&stack, None).await;
    let r = stack
        .wait_rental(&unpinned, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    assert_eq!(r.node(), Some(stack.clusters[0].nodes[0]));

    let containers = stack.containers().await;
    assert_eq!(containers.len(), 2, "{containers:?}");
    assert!(containers.contains(&(to_region_2, stack.clusters[1].provider, true)));
    assert!(containers.contains(&(unpinned, stack.clusters[0].provider, true)));

    // A third rental pinned to region 2 waits while region 2 is busy; once region 2's rental
    // ends it is served there, never in region 1.
    let waiting = renter.open(&stack, Some(2)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        stack.rental(&waiting).await.unwrap().state(),
        RentalState::Queued
    );
    let first = stack.rental(&to_region_2).await.unwrap();
    stack.time_travel(first.ends_at + 1).await;
    stack
        .wait_rental(&to_region_2, "settled", WAIT, is_gone)
        .await;
    let r = stack
        .wait_rental(&waiting, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    assert_eq!(r.node(), Some(stack.clusters[1].nodes[0]));
    let claims_lost = (0..2)
        .map(|i| {
            stack
                .log(i)
                .matches("another provisioner claimed it first")
                .count()
        })
        .sum::<usize>();
    println!("claims lost to the other cluster (normal, not errors): {claims_lost}");
    stack.finish(&[unpinned, waiting]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpinned_rentals_go_to_the_nearest_region_with_capacity_first() {
    // US East (Ohio), US West (N. California), EU West (Paris); each cluster has one node
    let mut stack = Stack::new("nearest", &[1, 2, 3]).await;
    for i in 0..3 {
        stack.start_provisioner(i, &ProvisionerOptions::default());
    }
    for i in 0..3 {
        stack.wait_serving(i).await;
    }
    let mut renter = Renter::new(&stack).await;
    // a renter in Berlin: Paris first
    let berlin = renter.open_with(&stack, None, Some((52, 13))).await;
    let r = stack
        .wait_rental(&berlin, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    assert_eq!(
        r.node(),
        Some(stack.clusters[2].nodes[0]),
        "served in Paris"
    );
    // a renter in San Francisco: N. California first
    let sf = renter.open_with(&stack, None, Some((38, -122))).await;
    let r = stack
        .wait_rental(&sf, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    assert_eq!(
        r.node(),
        Some(stack.clusters[1].nodes[0]),
        "served in N. California"
    );
    // Paris and California are busy now: a second Berliner goes to the next nearest region
    // with idle capacity (Ohio), at once since the nearer ones have none
    let berlin_2 = renter.open_with(&stack, None, Some((52, 13))).await;
    let r = stack
        .wait_rental(&berlin_2, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    assert_eq!(r.node(), Some(stack.clusters[0].nodes[0]), "served in Ohio");
    assert_eq!(stack.containers().await.len(), 3);
    stack.finish(&[berlin, sf, berlin_2]).await;
}
