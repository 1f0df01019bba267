//! A heartbeat means "can serve": it goes out in batches that fit a transaction (64 nodes
//! here), and is withheld while the engine is down or a node's instance is dead, which
//! `/healthz` and the metrics say too. Instances are probed on the bind address (the public
//! host may be a NAT address) and published on ports from the configured range.
mod support;

use std::time::Duration;

use calor_client::accounts::{Node, RentalState};
use support::proxy::EngineProxy;
use support::*;

const WAIT: Duration = Duration::from_secs(60);

async fn last_heartbeats(stack: &Stack) -> Vec<i64> {
    let mut beats = Vec::new();
    for node in &stack.clusters[0].nodes {
        let n = stack.chain().account::<Node>(node).await.unwrap().unwrap();
        beats.push(n.last_heartbeat);
    }
    beats
}

/// Waits until every node has a heartbeat newer than `before`.
async fn wait_every_node_heartbeated_since(stack: &Stack, before: &[i64]) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let beats = last_heartbeats(stack).await;
        if beats.iter().zip(before).all(|(now, then)| now > then) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{}", stack.log(0));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_nodes_heartbeat_in_batches() {
    let mut stack = Stack::with_nodes("heartbeat-64", &[1], 64).await;
    let listed = last_heartbeats(&stack).await;
    stack.time_travel(stack.clock().await + 10).await;
    stack.start_provisioner(
        0,
        &ProvisionerOptions {
            heartbeat_secs: 5,
            ..Default::default()
        },
    );
    wait_every_node_heartbeated_since(&stack, &listed).await;
    let metrics = http_get(stack.clusters[0].listen_port, "/metrics")
        .await
        .unwrap();
    let transactions: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("calor_heartbeat_transactions_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(
        transactions >= 4,
        "64 nodes take 4 transactions of 16: {transactions}"
    );
    assert!(
        stack.clusters[0]
            .process
            .as_mut()
            .unwrap()
            .0
            .try_wait()
            .unwrap()
            .is_none(),
        "still running"
    );
    stack.assert_clean().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_heartbeat_while_the_engine_is_down_or_the_instance_is_dead() {
    use std::sync::atomic::Ordering;
    let mut stack = Stack::with_nodes("heartbeat-withheld", &[1], 2).await;
    let proxy = EngineProxy::start(&tools().docker_host).await;
    // The public host is an address this host cannot reach (behind NAT): probes must dial the
    // bind address. SSH ports come from the configured range.
    let options = ProvisionerOptions {
        docker_host: Some(proxy.docker_host()),
        heartbeat_secs: 5,
        public_host: Some("192.0.2.10"),
        extra: vec!["--ssh-ports".into(), "45100-45199".into()],
        ..Default::default()
    };
    stack.start_provisioner(0, &options);
    let mut renter = Renter::new(&stack).await;
    let rental = renter.open(&stack, None).await;
    let running = stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    let port = wait_ssh_port(&stack.clusters[0], &rental).await;
    assert!((45100..=45199).contains(&port), "{port}");
    let status = http_get(stack.clusters[0].listen_port, &format!("/rentals/{rental}"))
        .await
        .unwrap();
    assert!(
        status.contains("192.0.2.10"),
        "renters are told the public host: {status}"
    );
    let health = http_get(stack.clusters[0].listen_port, "/healthz")
        .await
        .unwrap();
    assert!(health.contains("\"status\":\"ok\""), "{health}");

    // The engine goes away: no heartbeat for any node, /healthz says why.
    proxy.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(6)).await;
    let frozen = last_heartbeats(&stack).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        last_heartbeats(&stack).await,
        frozen,
        "withheld while the engine is down"
    );
    let health = http_get(stack.clusters[0].listen_port, "/healthz")
        .await
        .unwrap();
    assert!(health.contains("\"engine\":{\"ok\":false}"), "{health}");
    assert_eq!(
        stack.rental(&rental).await.unwrap().state(),
        RentalState::Running
    );

    proxy.down.store(false, Ordering::SeqCst);
    wait_every_node_heartbeated_since(&stack, &frozen).await;
    let metrics = http_get(stack.clusters[0].listen_port, "/metrics")
        .await
        .unwrap();
    assert!(metrics.contains("reason=\"engine\""), "{metrics}");

    // The instance dies and cannot come back quickly (its restart is refused): its node's
    // heartbeat stops, the other node's goes on.
    let serving = stack.clusters[0]
        .nodes
        .iter()
        .position(|n| Some(*n) == running.node())
        .unwrap();
    proxy.fail_starts.store(1000, Ordering::SeqCst);
    engine()
        .stop_container(&calor_provisioner::runtime::container_name(&rental), 1)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    let before = last_heartbeats(&stack).await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let after = last_heartbeats(&stack).await;
    assert_eq!(
        after[serving], before[serving],
        "the dead instance's node is not heartbeated"
    );
    assert!(
        after[1 - serving] > before[1 - serving],
        "the other node is"
    );
    let metrics = http_get(stack.clusters[0].listen_port, "/metrics")
        .await
        .unwrap();
    assert!(metrics.contains("reason=\"instance\""), "{metrics}");
    proxy.fail_starts.store(0, Ordering::SeqCst);
    stack
        .wait_rental(
            &rental,
            "running again",
            WAIT,
            is_state(RentalState::Running),
        )
        .await;
    stack.finish(&[rental]).await;
}
