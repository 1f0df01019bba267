//! Crash safety (the process dies right after a claim, a container create or a recorded
//! start, like `kill -9`), clean SIGTERM, and recovery from a websocket drop and an RPC outage.
mod support;

use std::sync::Arc;
use std::time::Duration;

use calor_client::accounts::RentalState;
use support::*;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

const WAIT: Duration = Duration::from_secs(60);

async fn crash_and_recover(step: &'static str) {
    let mut stack = Stack::new(&format!("crash-{step}"), &[1]).await;
    stack.start_provisioner(
        0,
        &ProvisionerOptions {
            crash_after: Some(step),
            ..Default::default()
        },
    );
    let mut renter = Renter::new(&stack).await;
    let rental = renter.open(&stack, None).await;
    let after_open = renter.balance(&stack).await;
    let rental_lamports = stack.chain().balance(&rental).await.unwrap();

    let status = stack.wait_exit(0, WAIT).await;
    assert!(!status.success(), "the provisioner died at the crash point");
    assert!(stack.log(0).contains(&format!("CALOR_CRASH_AFTER={step}")));

    stack.start_provisioner(0, &ProvisionerOptions::default());
    let running = stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    let containers = stack.containers().await;
    assert_eq!(
        containers,
        vec![(rental, stack.clusters[0].provider, true)],
        "exactly one instance"
    );
    let port = wait_ssh_port(&stack.clusters[0], &rental).await;
    assert!(renter.ssh(port, "true").status.success());

    stack.time_travel(running.ends_at + 1).await;
    stack.wait_rental(&rental, "settled", WAIT, is_gone).await;
    assert!(stack.containers().await.is_empty(), "no orphan instance");
    let rent = rental_lamports - running.escrowed;
    assert_eq!(renter.balance(&stack).await, after_open + rent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_claim_is_recovered() {
    crash_and_recover("claim").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_container_is_created_is_recovered() {
    crash_and_recover("create").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_start_is_recorded_is_recovered() {
    crash_and_recover("start").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_removed_behind_its_back_is_recreated_and_sigterm_stops_cleanly() {
    use calor_provisioner::runtime::{DockerRuntime, Runtime};
    let mut stack = Stack::new("recreate", &[1]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let mut renter = Renter::new(&stack).await;
    let rental = renter.open(&stack, None).await;
    stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await;

    let engine = DockerRuntime::connect(&tools().docker_host).unwrap();
    engine.remove(&rental).await.unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while !stack
        .containers()
        .await
        .iter()
        .any(|(r, _, running)| *r == rental && *running)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "not recreated:\n{}",
            stack.log(0)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(stack.log(0).contains("recreating"));

    let status = stack.stop_provisioner(0).await;
    assert!(status.success(), "SIGTERM exits cleanly: {status}");
    assert!(stack.log(0).contains("stopped cleanly"));
}

/// A TCP proxy the test can cut (every connection dropped, new ones refused) and restore.
struct Proxy {
    port: u16,
    target: u16,
    tasks: Arc<Mutex<JoinSet<()>>>,
}

impl Proxy {
    async fn start(target: u16) -> Proxy {
        let proxy = Proxy {
            port: free_port(),
            target,
            tasks: Arc::default(),
        };
        proxy.restore().await;
        proxy
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let (target, tasks) = (self.target, self.tasks.clone());
        self.tasks.lock().await.spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await else {
                    continue;
                };
                tasks.lock().await.spawn(async move {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
        });
    }

    async fn cut(&self) {
        self.tasks.lock().await.abort_all();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn it_catches_up_after_a_websocket_drop_and_an_rpc_outage() {
    let mut stack = Stack::new("outage", &[1]).await;
    let rpc = Proxy::start(stack.local.rpc_port).await;
    let ws = Proxy::start(stack.local.ws_port).await;
    let options = ProvisionerOptions {
        rpc_url: Some(format!("http://127.0.0.1:{}", rpc.port)),
        ws_url: Some(format!("ws://127.0.0.1:{}", ws.port)),
        ..Default::default()
    };
    stack.start_provisioner(0, &options);
    let mut renter = Renter::new(&stack).await;
    let first = renter.open(&stack, None).await;
    let r = stack
        .wait_rental(&first, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();

    // Both links go down; the rental ends and a new one is opened while the provisioner is blind.
    rpc.cut().await;
    ws.cut().await;
    stack.time_travel(r.ends_at + 1).await;
    let second = renter.open(&stack, None).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        stack.rental(&second).await.unwrap().state(),
        RentalState::Queued
    );
    rpc.restore().await;
    ws.restore().await;

    stack.wait_rental(&first, "settled", WAIT, is_gone).await;
    stack
        .wait_rental(&second, "running", WAIT, is_state(RentalState::Running))
        .await;
    let containers = stack.containers().await;
    assert_eq!(containers.len(), 1, "{containers:?}");
    assert_eq!(containers[0].0, second);
    let log = stack.log(0);
    assert!(
        log.contains("reconnecting"),
        "the websocket drop was noticed:\n{log}"
    );
}
