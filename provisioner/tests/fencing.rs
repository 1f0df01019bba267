//! One owner per instance: a second provisioner for the same nodes refuses to start; two
//! deployments of one provider on one engine leave each other's tenants alone; a node taken
//! out of the config is drained (its rental completed and settled), never destroyed; leftover
//! volumes, networks and workspaces are found by label and removed.
mod support;

use std::time::Duration;

use calor_client::accounts::RentalState;
use calor_provisioner::runtime::{
    container_name, LABEL_CLUSTER, LABEL_GPUS, LABEL_PROVIDER, LABEL_RENTAL,
};
use support::*;

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_provisioner_for_the_same_nodes_refuses_to_start() {
    let mut stack = Stack::new("second", &[1]).await;
    let (_renter, rental) = stack.one_running_rental().await;

    let mut second = stack.spawn_provisioner(0, &ProvisionerOptions::default(), "second.log");
    let status = tokio::time::timeout(WAIT, async {
        loop {
            if let Some(status) = second.0.try_wait().unwrap() {
                return status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the second provisioner exits");
    assert!(!status.success());
    let log = std::fs::read_to_string(stack.clusters[0].dir.join("second.log")).unwrap();
    assert!(
        log.contains("already served by another provisioner"),
        "{log}"
    );
    assert!(
        log.contains(&format!(
            "pid {}",
            stack.clusters[0].process.as_ref().unwrap().0.id()
        )),
        "{log}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        stack.rental(&rental).await.unwrap().state(),
        RentalState::Running
    );
    assert_eq!(stack.containers().await.len(), 1, "the tenant is untouched");
    stack.finish(&[rental]).await;
}

/// Two deployments (cluster ids "a" and "b") of one provider share a host and its engine,
/// each with one node: through many passes and sweeps neither touches the other's tenant,
/// and their GPUs do not collide.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployments_of_one_provider_leave_each_other_alone() {
    let mut stack = Stack::with_nodes("deployments", &[1], 2).await;
    let a = ProvisionerOptions {
        nodes: Some(vec![0]),
        cluster_id: Some("a".into()),
        ..Default::default()
    };
    let b = ProvisionerOptions {
        nodes: Some(vec![1]),
        cluster_id: Some("b".into()),
        listen_port: Some(free_port()),
        ..Default::default()
    };
    stack.start_provisioner(0, &a);
    let _b = stack.spawn_provisioner(0, &b, "b.log");
    let (mut r0, mut r1) = (Renter::new(&stack).await, Renter::new(&stack).await);
    let first = r0.open(&stack, None).await;
    let second = r1.open(&stack, None).await;
    for r in [&first, &second] {
        stack
            .wait_rental(r, "running", WAIT, is_state(RentalState::Running))
            .await;
    }
    // several passes and leftover sweeps of both
    tokio::time::sleep(Duration::from_secs(6)).await;
    for r in [&first, &second] {
        assert_eq!(stack.rental(r).await.unwrap().state(), RentalState::Running);
    }
    let containers = stack.containers().await;
    assert_eq!(containers.len(), 2, "{containers:?}");
    assert!(containers.iter().all(|(_, _, running)| *running));
    let ownership =
        std::fs::read_to_string(stack.clusters[0].state_dir().join("gpu-ownership.json")).unwrap();
    let gpus = &stack.clusters[0].gpus;
    assert!(
        ownership.contains(&gpus[0]) && ownership.contains(&gpus[1]),
        "{ownership}"
    );
    let mut held = Vec::new();
    for r in [&first, &second] {
        let d = engine()
            .inspect_container(&container_name(r))
            .await
            .unwrap()
            .unwrap();
        held.push(d.config.labels.unwrap_or_default()[LABEL_GPUS].clone());
    }
    assert_ne!(held[0], held[1], "each tenant has its own GPU");
    stack.finish(&[first, second]).await;
}

/// A node taken out of the config while its tenant runs is drained: the rental is completed
/// (paid for the time served) and settled, its instance removed; the other node's runs on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_taken_out_of_the_config_is_drained_not_destroyed() {
    let mut stack = Stack::with_nodes("drain", &[1], 2).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let (mut r0, mut r1) = (Renter::new(&stack).await, Renter::new(&stack).await);
    let x = r0.open(&stack, None).await;
    let y = r1.open(&stack, None).await;
    let mut on_node = [None, None];
    for r in [x, y] {
        let running = stack
            .wait_rental(&r, "running", WAIT, is_state(RentalState::Running))
            .await
            .unwrap();
        let i = stack.clusters[0]
            .nodes
            .iter()
            .position(|n| Some(*n) == running.node())
            .unwrap();
        on_node[i] = Some((r, running));
    }
    let (kept, _) = on_node[0].unwrap();
    let (drained, drained_running) = on_node[1].unwrap();
    let provider = stack.clusters[0].provider;
    let provider_before = stack.chain().balance(&provider).await.unwrap();

    stack.stop_provisioner(0).await;
    stack.start_provisioner(
        0,
        &ProvisionerOptions {
            nodes: Some(vec![0]),
            ..Default::default()
        },
    );
    stack
        .wait_rental(&drained, "drained and settled", WAIT, is_gone)
        .await;
    let paid = stack.chain().balance(&provider).await.unwrap() - provider_before;
    assert!(paid > 0, "the provider is paid for the time served");
    assert!(
        paid < drained_running.escrowed / 10,
        "and not for the rest of the hour"
    );
    let log = stack.log(0);
    assert!(log.contains("draining it"), "{log}");
    assert_eq!(
        stack.rental(&kept).await.unwrap().state(),
        RentalState::Running
    );
    let containers = stack.containers().await;
    assert_eq!(containers, vec![(kept, provider, true)]);

    stack.start_provisioner(0, &ProvisionerOptions::default());
    stack.finish(&[kept]).await;
}

/// Volumes, networks and workspace images left by a crash between removal steps (or by hand)
/// are found by their labels and removed, while a live tenant's are kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leftover_volumes_networks_and_workspaces_are_removed_by_label() {
    let mut stack = Stack::new("leftovers", &[1]).await;
    let (renter, rental) = stack.one_running_rental().await;
    let c = &stack.clusters[0];
    let gone = calor_client::Pubkey::new_unique(); // a rental that no longer exists
    let provider = c.provider.to_string();
    let labels = serde_json::json!({
        LABEL_RENTAL: gone.to_string(),
        LABEL_PROVIDER: provider,
        LABEL_CLUSTER: provider,
    });
    engine()
        .create_volume(&serde_json::json!({ "Name": format!("calor-ws-{gone}"), "Labels": labels }))
        .await
        .unwrap();
    engine()
        .create_network(
            &serde_json::json!({ "Name": format!("calor-net-{gone}"), "Labels": labels }),
        )
        .await
        .unwrap();
    let image = c.workspaces().join(format!("{gone}.ext4"));
    std::fs::write(&image, b"left").unwrap();

    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let filter = [(LABEL_RENTAL, gone.to_string())];
        let filter = [(filter[0].0, filter[0].1.as_str())];
        let volumes = engine().list_volumes(&filter).await.unwrap();
        let networks = engine().list_networks(&filter).await.unwrap();
        if volumes.is_empty() && networks.is_empty() && !image.exists() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not swept:\n{}",
            stack.log(0)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        stack.rental(&rental).await.unwrap().state(),
        RentalState::Running
    );
    let port = wait_ssh_port(&stack.clusters[0], &rental).await;
    assert!(renter
        .ssh(port, "touch /workspace/still-here")
        .status
        .success());
    stack.finish(&[rental]).await;
}
