//! GPUs are real, owned and healthy: an instance that does not see exactly its GPUs is never
//! billed; which node owns which GPU survives config changes and is never moved under a
//! tenant; a failed GPU takes its node offline on-chain until it recovers, and a node left
//! offline by a reclaim comes back once it can serve.
mod support;

use std::time::Duration;

use calor_client::accounts::{Node, NodeStatus, RentalState};
use calor_client::Pubkey;
use calor_provisioner::runtime::{container_name, LABEL_GPUS};
use solana_signer::Signer;
use support::*;

const WAIT: Duration = Duration::from_secs(60);

async fn node_status(stack: &Stack, node: &Pubkey) -> Node {
    stack.chain().account::<Node>(node).await.unwrap().unwrap()
}

async fn wait_node(stack: &Stack, node: &Pubkey, what: &str, check: impl Fn(&Node) -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let n = node_status(stack, node).await;
        if check(&n) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node {node} not {what} (status {}):\n{}",
            n.status,
            stack.log(0)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Podman's Docker API drops the `nvidia` device request without a word: the instance runs
/// with no GPU. The check inside the instance catches it and the renter gets everything back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gpu_request_the_engine_ignored_fails_the_rental_with_a_full_refund() {
    let mut stack = Stack::new("gpu-ignored", &[1]).await;
    let options = ProvisionerOptions {
        gpu_attach: Some("device-request"),
        ..Default::default()
    };
    stack.assert_fails_with_full_refund(&options).await;
    let log = stack.log(0);
    assert!(log.contains("does not see exactly its GPUs"), "{log}");
    assert!(
        !log.contains("started"),
        "never recorded as started:\n{log}"
    );
    let metrics = http_get(stack.clusters[0].listen_port, "/metrics")
        .await
        .unwrap();
    assert!(
        metrics.contains("calor_gpu_check_failures_total 1"),
        "{metrics}"
    );
    stack.assert_clean().await;
}

/// GPU ownership is kept in the state directory and on the instances' labels: listing the
/// nodes in another order changes nothing, and a config that would give a tenant's GPU to
/// another node is refused by name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gpu_ownership_survives_reordering_and_is_never_moved_under_a_tenant() {
    let mut stack = Stack::with_nodes("gpu-owners", &[1], 2).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let mut renter = Renter::new(&stack).await;
    let rental = renter.open(&stack, None).await;
    let running = stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    let (nodes, gpus, dir, state_dir) = {
        let c = &stack.clusters[0];
        (
            c.nodes.clone(),
            c.gpus.clone(),
            c.dir.clone(),
            c.state_dir(),
        )
    };
    let node_index = nodes
        .iter()
        .position(|n| Some(*n) == running.node())
        .unwrap();
    let label = |d: &calor_provisioner::engine::ContainerDetails| {
        d.config.labels.clone().unwrap_or_default()[LABEL_GPUS].clone()
    };
    let details = engine()
        .inspect_container(&container_name(&rental))
        .await
        .unwrap()
        .unwrap();
    let held = label(&details);
    let ownership = std::fs::read_to_string(state_dir.join("gpu-ownership.json")).unwrap();
    assert!(ownership.contains(&held), "{ownership}");

    // the same nodes, listed the other way round: the same GPUs, the tenant untouched
    stack.stop_provisioner(0).await;
    let reordered = ProvisionerOptions {
        nodes: Some(vec![1, 0]),
        ..Default::default()
    };
    stack.start_provisioner(0, &reordered);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        std::fs::read_to_string(state_dir.join("gpu-ownership.json")).unwrap(),
        ownership
    );
    let again = engine()
        .inspect_container(&container_name(&rental))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.id.clone(), label(&again)),
        (details.id.clone(), held.clone())
    );

    // a config pinning the tenant's GPU to the other node is refused
    stack.stop_provisioner(0).await;
    let other = 1 - node_index;
    let config = dir.join("moved.toml");
    let gpu_of_other = gpus.iter().find(|g| **g != held).unwrap();
    std::fs::write(
        &config,
        format!(
            "[[node]]\nindex = {node_index}\ngpus = [\"{gpu_of_other}\"]\n[[node]]\nindex = {other}\ngpus = [\"{held}\"]\n"
        ),
    )
    .unwrap();
    let moved = ProvisionerOptions {
        nodes: Some(if node_index == 0 {
            vec![0, 1]
        } else {
            vec![1, 0]
        }),
        extra: vec!["--config".into(), config.display().to_string()],
        ..Default::default()
    };
    stack.start_provisioner(0, &moved);
    let status = stack.wait_exit(0, WAIT).await;
    assert!(!status.success());
    let log = stack.log(0);
    assert!(
        log.contains(&format!("GPU {held} is in use by rental {rental}")),
        "{log}"
    );
    assert_eq!(
        stack.rental(&rental).await.unwrap().state(),
        RentalState::Running,
        "the tenant is untouched"
    );

    stack.start_provisioner(0, &ProvisionerOptions::default());
    stack.finish(&[rental]).await;
}

/// A GPU that fails (declared unhealthy here, as NVML would report an Xid or ECC fault) stops
/// its node's heartbeat and takes the node offline on-chain; rentals wait; when it recovers
/// the node comes back and serves them. A node a renter reclaimed comes back the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_gpu_takes_its_node_offline_until_it_recovers() {
    let mut stack = Stack::new("gpu-health", &[1]).await;
    let options = ProvisionerOptions {
        heartbeat_secs: 5,
        ..Default::default()
    };
    stack.start_provisioner(0, &options);
    let node = stack.clusters[0].nodes[0];
    let gpu = stack.clusters[0].gpus[0].clone();
    wait_node(&stack, &node, "idle", |n| n.status() == NodeStatus::Idle).await;
    // The node was idle before the provisioner came up: wait until it serves, or its first
    // heartbeat round could take the node offline before its HTTP server listens.
    let deadline = std::time::Instant::now() + WAIT;
    while http_get(stack.clusters[0].listen_port, "/healthz")
        .await
        .is_none()
    {
        assert!(std::time::Instant::now() < deadline, "{}", stack.log(0));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    stack.clusters[0].declare_gpus(&[(&gpu, "Xid 79 (fallen off the bus)")]);
    wait_node(&stack, &node, "offline", |n| {
        n.status() == NodeStatus::Offline
    })
    .await;
    let health = http_get(stack.clusters[0].listen_port, "/healthz")
        .await
        .unwrap();
    assert!(health.contains("Xid 79"), "{health}");
    let beat = node_status(&stack, &node).await.last_heartbeat;

    let mut renter = Renter::new(&stack).await;
    let rental = renter.open(&stack, None).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        stack.rental(&rental).await.unwrap().state(),
        RentalState::Queued
    );
    assert_eq!(
        node_status(&stack, &node).await.last_heartbeat,
        beat,
        "no heartbeat while unhealthy"
    );
    let metrics = http_get(stack.clusters[0].listen_port, "/metrics")
        .await
        .unwrap();
    assert!(
        metrics.contains("calor_heartbeats_withheld_total{node=\"0\",reason=\"gpu\"}"),
        "{metrics}"
    );

    stack.clusters[0].declare_gpus(&[]);
    let running = stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();

    // The provisioner goes away; past the heartbeat timeout the renter reclaims, which leaves
    // the node offline. Back, the provisioner brings it online again.
    stack.stop_provisioner(0).await;
    let timeout = i64::from(calor_client::catalog::launch_params().heartbeat_timeout_secs);
    stack.time_travel(stack.clock().await + timeout + 1).await;
    let reclaim = calor_client::instructions::reclaim(renter.key.pubkey(), rental, node);
    stack
        .chain()
        .send("reclaim", &[reclaim], &renter.key, &[])
        .await
        .unwrap();
    assert_eq!(
        node_status(&stack, &node).await.status(),
        NodeStatus::Offline
    );
    stack.start_provisioner(0, &options);
    wait_node(&stack, &node, "back online", |n| {
        n.status() == NodeStatus::Idle
    })
    .await;
    let _ = running;
    stack.wait_rental(&rental, "settled", WAIT, is_gone).await;

    // A GPU that fails under a running tenant ends the rental: completed, so the renter pays
    // only the time served, and settled.
    let second = renter.open(&stack, None).await;
    stack
        .wait_rental(&second, "running", WAIT, is_state(RentalState::Running))
        .await;
    stack.clusters[0].declare_gpus(&[(&gpu, "uncorrected ECC errors")]);
    stack.wait_rental(&second, "settled", WAIT, is_gone).await;
    let metrics = http_get(stack.clusters[0].listen_port, "/metrics")
        .await
        .unwrap();
    assert!(
        metrics.contains("calor_rentals_completed_early_total{reason=\"gpu_fault\"} 1"),
        "{metrics}"
    );
    wait_node(&stack, &node, "offline again", |n| {
        n.status() == NodeStatus::Offline
    })
    .await;
    stack.assert_clean().await;
}
