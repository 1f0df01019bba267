//! Crash safety (the process dies right after a claim, a container create or a recorded
//! start, like `kill -9`), clean SIGTERM, and recovery from a websocket drop and an RPC outage.
mod support;

use std::time::Duration;

use calor_client::accounts::RentalState;
use calor_provisioner::runtime::container_name;
use support::proxy::Proxy;
use support::*;

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
    stack.assert_clean().await;
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

/// Waits until the rental's instance runs again, with the container id changed from `old`.
async fn wait_recreated(stack: &Stack, rental: &calor_client::Pubkey, old: &str) -> String {
    let name = container_name(rental);
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(d) = engine().inspect_container(&name).await.unwrap() {
            if d.state.running && d.id != old {
                return d.id;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not recreated:\n{}",
            stack.log(0)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The reconcile pass that lists containers may run while a step is restarting the instance;
/// a decision on that stale listing once recreated a just-started instance (a 500 from the
/// engine) and ended the rental. Removed four times over, the rental must stay Running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_removed_behind_its_back_is_recreated_and_sigterm_stops_cleanly() {
    let mut stack = Stack::new("recreate", &[1]).await;
    let (renter, rental) = stack.one_running_rental().await;
    let name = container_name(&rental);
    let mut id = engine().inspect_container(&name).await.unwrap().unwrap().id;
    let port = wait_ssh_port(&stack.clusters[0], &rental).await;
    assert!(renter
        .ssh(port, "echo kept > /workspace/kept")
        .status
        .success());
    for _ in 0..4 {
        engine().remove_container(&name).await.unwrap();
        id = wait_recreated(&stack, &rental, &id).await;
        assert_eq!(
            stack.rental(&rental).await.unwrap().state(),
            RentalState::Running
        );
    }
    let port = wait_ssh(&stack.clusters[0], &renter, &rental).await;
    let out = renter.ssh(port, "cat /workspace/kept");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "kept",
        "the workspace survives"
    );
    let log = stack.log(0);
    assert!(log.contains("restarting it with its /workspace"), "{log}");
    assert!(!log.contains("ending the rental early"), "{log}");

    let status = stack.stop_provisioner(0).await;
    assert!(status.success(), "SIGTERM exits cleanly: {status}");
    assert!(stack.log(0).contains("stopped cleanly"));
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let r = stack.rental(&rental).await.unwrap();
    stack.time_travel(r.ends_at + 1).await;
    stack.wait_rental(&rental, "settled", WAIT, is_gone).await;
    stack.assert_clean().await;
}

/// SIGTERM while a step waits for an instance that never answers SSH: the process exits
/// within the engine's 10-second stop grace, and the next start fails the rental in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_in_the_middle_of_provisioning_exits_within_ten_seconds() {
    let mut stack = Stack::new("sigterm", &[1]).await;
    let silent = derived_image("silent", r#"CMD ["sleep", "infinity"]"#).await;
    let options = ProvisionerOptions {
        image: Some(silent),
        provision_timeout_secs: 15,
        ..Default::default()
    };
    stack.start_provisioner(0, &options);
    let mut renter = Renter::new(&stack).await;
    let rental = renter.open(&stack, None).await;
    let after_open = renter.balance(&stack).await;
    let rental_lamports = stack.chain().balance(&rental).await.unwrap();
    stack
        .wait_rental(
            &rental,
            "provisioning",
            WAIT,
            is_state(RentalState::Provisioning),
        )
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await; // inside the SSH probe
    let asked = std::time::Instant::now();
    let status = stack.stop_provisioner(0).await;
    let took = asked.elapsed();
    assert!(status.success(), "{status}");
    assert!(took < Duration::from_secs(10), "SIGTERM took {took:?}");

    stack.start_provisioner(0, &options);
    stack.wait_rental(&rental, "settled", WAIT, is_gone).await;
    assert_eq!(
        renter.balance(&stack).await,
        after_open + rental_lamports,
        "failed: every lamport paid comes back"
    );
    stack.assert_clean().await;
}

/// The engine answers 500 ("container state improper") to starts, and lists a stopped
/// container as Podman's `stopped`: neither ends a paying rental; starts are retried with
/// back-off and the pass goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_engine_errors_and_unknown_states_are_retried_not_billed() {
    use std::sync::atomic::Ordering;
    let mut stack = Stack::new("engine-errors", &[1]).await;
    let proxy = support::proxy::EngineProxy::start(&tools().docker_host).await;
    proxy.fail_starts.store(2, Ordering::SeqCst);
    proxy.report_stopped.store(true, Ordering::SeqCst);
    let options = ProvisionerOptions {
        docker_host: Some(proxy.docker_host()),
        ..Default::default()
    };
    stack.start_provisioner(0, &options);
    let mut renter = Renter::new(&stack).await;
    let rental = renter.open(&stack, None).await;
    stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await;
    assert_eq!(proxy.starts_failed.load(Ordering::SeqCst), 2);

    // stopped behind its back: listed as `stopped`, restarted through one more 500
    let name = container_name(&rental);
    let id = engine().inspect_container(&name).await.unwrap().unwrap().id;
    proxy.fail_starts.store(1, Ordering::SeqCst);
    stop_instance(&name).await;
    let deadline = std::time::Instant::now() + WAIT;
    while !engine()
        .inspect_container(&name)
        .await
        .unwrap()
        .is_some_and(|d| d.state.running)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "not restarted:\n{}",
            stack.log(0)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        engine().inspect_container(&name).await.unwrap().unwrap().id,
        id,
        "started again, not recreated"
    );
    assert_eq!(proxy.starts_failed.load(Ordering::SeqCst), 3);
    assert_eq!(
        stack.rental(&rental).await.unwrap().state(),
        RentalState::Running
    );
    let log = stack.log(0);
    assert!(!log.contains("reconcile pass failed"), "{log}");
    wait_ssh(&stack.clusters[0], &renter, &rental).await;

    let r = stack.rental(&rental).await.unwrap();
    stack.time_travel(r.ends_at + 1).await;
    stack.wait_rental(&rental, "settled", WAIT, is_gone).await;
    stack.assert_clean().await;
}

/// An instance whose entrypoint keeps exiting is restarted with back-off a bounded number of
/// times; then the rental is completed, so the renter pays only for the time it ran.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_looping_instance_is_restarted_with_back_off_then_completed() {
    let mut stack = Stack::new("crash-loop", &[1]).await;
    // runs once; every later start exits at once
    let script = "if [ -e /workspace/.ran ]; then echo crash >&2; exit 1; fi; touch /workspace/.ran; exec /usr/local/bin/calor-entrypoint";
    let crashing = derived_image(
        "crashloop",
        &format!(r#"CMD ["/bin/sh", "-c", "{script}"]"#),
    )
    .await;
    let options = ProvisionerOptions {
        image: Some(crashing),
        extra: vec!["--max-restarts".into(), "3".into()],
        ..Default::default()
    };
    stack.start_provisioner(0, &options);
    let mut renter = Renter::new(&stack).await;
    let rental = renter.open(&stack, None).await;
    let after_open = renter.balance(&stack).await;
    let running = stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    let rent = stack.chain().balance(&rental).await.unwrap() - running.escrowed;

    stop_instance(&container_name(&rental)).await;
    stack.wait_rental(&rental, "settled", WAIT, is_gone).await;
    let log = stack.log(0);
    // one restart a stop; a start the engine refused (Podman can answer 500 while the stopped
    // container settles) is retried within the same stop and logged again with `retries` > 0
    let restarts: Vec<String> = log
        .lines()
        .map(without_colours)
        .filter(|l| l.contains("restarting it with its /workspace") && l.contains("retries=0"))
        .collect();
    assert_eq!(restarts.len(), 3, "{log}");
    assert!(log.contains("stopped 4 times in a row"), "{log}");
    // back-off: 1 s, 2 s, 4 s between attempts, so the whole loop took at least 7 s
    let metrics = http_get(stack.clusters[0].listen_port, "/metrics")
        .await
        .unwrap();
    assert!(
        metrics.contains("calor_rentals_completed_early_total{reason=\"crash_loop\"} 1"),
        "{metrics}"
    );
    let refund = renter.balance(&stack).await - after_open - rent;
    let paid = running.escrowed - refund;
    // served: from the start to the completion, under a minute of the paid hour
    assert!(
        paid * 60 < running.escrowed,
        "paid {paid} of {}",
        running.escrowed
    );
    assert!(paid > 0);
    stack.assert_clean().await;
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
    stack.finish(&[second]).await;
}

/// A websocket that stops delivering without closing (a stalled link) is noticed within its
/// idle timeout (4 s here) and reopened, so a new rental is claimed at once, not at the next
/// full resync (120 s here).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silently_stalled_websocket_is_reopened() {
    let mut stack = Stack::new("ws-stall", &[1]).await;
    let ws = Proxy::start(stack.local.ws_port).await;
    let options = ProvisionerOptions {
        ws_url: Some(format!("ws://127.0.0.1:{}", ws.port)),
        resync_secs: 120,
        ..Default::default()
    };
    stack.start_provisioner(0, &options);
    let deadline = std::time::Instant::now() + WAIT;
    while !stack.log(0).contains("subscribed to program accounts") {
        assert!(std::time::Instant::now() < deadline, "{}", stack.log(0));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ws.stall_open_connections();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut renter = Renter::new(&stack).await;
    let opened = std::time::Instant::now();
    let rental = renter.open(&stack, None).await;
    let running = stack
        .wait_rental(&rental, "running", WAIT, is_state(RentalState::Running))
        .await
        .unwrap();
    let took = opened.elapsed();
    assert!(
        took < Duration::from_secs(20),
        "claimed and started after {took:?}"
    );
    let log = stack.log(0);
    assert!(log.contains("the socket stalled"), "{log}");

    stack.time_travel(running.ends_at + 1).await;
    stack.wait_rental(&rental, "settled", WAIT, is_gone).await;
    stack.assert_clean().await;
}

/// A host port that another container publishes is never given to an instance, even with
/// nothing listening on it (here a container created and not started; elsewhere Docker without
/// its userland proxy, or a container whose monitor died): the engine's forwarding rule for it
/// would shadow the instance's SSH, which would then refuse every connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_another_container_publishes_is_not_given_to_an_instance() {
    let mut stack = Stack::new("published", &[1]).await;
    let free = |port: &u16| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok();
    let taken = (40_000..45_000u16)
        .find(free)
        .expect("a free port in the SSH range");
    let foreign = format!("foreign-{}", std::process::id());
    let body = serde_json::json!({
        "Image": tools().image,
        "Cmd": ["sleep", "600"],
        "ExposedPorts": { "22/tcp": {} },
        "HostConfig": {
            "PortBindings": { "22/tcp": [{ "HostIp": "127.0.0.1", "HostPort": taken.to_string() }] }
        },
    });
    engine().create_container(&foreign, &body).await.unwrap();
    assert!(
        free(&taken),
        "created, not started: nothing listens on {taken}"
    );

    let (_renter, rental) = stack.one_running_rental().await;
    let port = wait_ssh_port(&stack.clusters[0], &rental).await;
    engine().remove_container(&foreign).await.unwrap();
    assert_ne!(
        port, taken,
        "the instance got the port another container publishes"
    );
    let r = stack.rental(&rental).await.unwrap();
    stack.time_travel(r.ends_at + 1).await;
    stack.wait_rental(&rental, "settled", WAIT, is_gone).await;
    stack.assert_clean().await;
}

/// Stops an instance from outside, as a crash would. Podman can refuse a stop that races the
/// container's own state change ("container state improper", 500): that is retried.
async fn stop_instance(name: &str) {
    for attempt in 1..=10 {
        match engine().stop_container(name, 1).await {
            Ok(_) => return,
            Err(e) if attempt < 10 && e.to_string().contains("state improper") => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("stopping {name}: {e}"),
        }
    }
}

/// A log line without its ANSI colour codes.
fn without_colours(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut in_code = false;
    for c in line.chars() {
        match (in_code, c) {
            (false, '\u{1b}') => in_code = true,
            (true, 'm') => in_code = false,
            (true, _) => {}
            (false, c) => plain.push(c),
        }
    }
    plain
}
