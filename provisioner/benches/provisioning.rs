//! Provisioning latency and resync cost on the real local stack (a harness that prints
//! figures; nothing here asserts a time).
//!
//! 1. Provisioning latency: from a confirmed `open_rental_sol` to the instance's SSH port
//!    answering with an SSH banner, over RENTALS rentals served one after another by one
//!    node; beside it the raw engine create + start + SSH banner time of the same image,
//!    measured in the same run. Target: p50 ≤ 1.3 × raw p50 + one slot.
//! 2. With 10,000 open rentals and 64 nodes: a full `getProgramAccounts` read into the view,
//!    a reconcile pass of the provisioner serving all 64 nodes, its heartbeat transactions
//!    per minute, and its resident memory.
//!
//! cargo bench --profile dev -p calor-provisioner --bench provisioning --ignore-rust-version
//! (dependencies optimised, the provisioner itself not: the figures are an upper bound)
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use calor_client::accounts::{PaymentKind, Rental, RentalState};
use calor_client::{instructions as ix, Pubkey, PROGRAM_ID};
use calor_provisioner::runtime::{
    free_ssh_port, ssh_ready, DockerRuntime, GpuAttach, InstanceSpec, Limits, Runtime, Share,
};
use calor_provisioner::workspace::Workspaces;
use solana_signer::Signer;
use support::*;

const RENTALS: usize = 20;
const OPEN_RENTALS: usize = 10_000;
const NODES: usize = 64;
const SLOT_MS: f64 = 100.0;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(name: &str, mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let (p50, p95) = (percentile(&ms, 50.0), percentile(&ms, 95.0));
    println!(
        "{name:<44} n={:<3} p50 {p50:>7.1} ms   p95 {p95:>7.1} ms   min {:>7.1}   max {:>7.1}",
        ms.len(),
        ms[0],
        ms[ms.len() - 1]
    );
    (p50, p95)
}

async fn raw_engine_ms(image: &str) -> f64 {
    let workspaces = Workspaces::new(std::env::temp_dir().join("calor-bench-workspaces"));
    let engine = DockerRuntime::connect(&tools().docker_host, workspaces)
        .await
        .unwrap();
    let rental = Pubkey::new_unique();
    let ssh_port = free_ssh_port((46_000, 46_999), "127.0.0.1", &Default::default()).unwrap();
    let spec = InstanceSpec {
        rental,
        node: Pubkey::new_unique(),
        provider: Pubkey::new_unique(),
        cluster: "bench".into(),
        image: image.into(),
        ssh_public_key: Some("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBench bench".into()),
        gpu_uuids: vec![],
        gpu_attach: GpuAttach::None,
        ssh_bind_ip: "127.0.0.1".into(),
        ssh_port,
        forwarded_ports: vec![],
        jupyter_token: "bench".into(),
        share: Share {
            memory_mib: TEST_MEMORY_MIB,
            cpus: 1.0,
            cpuset: None,
            mems: None,
            shm_mib: TEST_SHM_MIB,
            workspace_mib: TEST_WORKSPACE_MIB,
        },
        limits: Limits {
            nofile: (1024, 20000),
            nproc: (1024, 1024),
            pids: 4096,
        },
    };
    // the same work the provisioner has the engine do: network, workspace, container, start
    let started = Instant::now();
    let instance = engine.ensure(&spec).await.expect("create + start");
    let port = instance.ssh_port().expect("published port");
    while !ssh_ready("127.0.0.1", port, Duration::from_secs(2)).await {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    engine.remove(&rental).await.unwrap();
    ms
}

fn node_0_only() -> ProvisionerOptions {
    ProvisionerOptions {
        nodes: Some(vec![0]),
        ..Default::default()
    }
}

async fn provisioning(stack: &mut Stack) {
    stack.start_provisioner(0, &node_0_only());
    let mut renter = Renter::new(stack).await;
    let mut latencies = Vec::new();
    let mut raw = Vec::new();
    for i in 0..RENTALS {
        raw.push(raw_engine_ms(&tools().image).await);
        let rental = renter.open(stack, Some(1)).await;
        let confirmed = Instant::now();
        let port = loop {
            if let Some(port) = ssh_port(&stack.clusters[0], &rental).await {
                if ssh_ready("127.0.0.1", port, Duration::from_secs(2)).await {
                    break port;
                }
            }
            assert!(
                confirmed.elapsed() < Duration::from_secs(60),
                "rental {i} never came up:\n{}",
                stack.log(0)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        latencies.push(confirmed.elapsed().as_secs_f64() * 1e3);
        let _ = port;
        // End it so the node is free for the next one.
        let r = stack
            .wait_rental(
                &rental,
                "running",
                Duration::from_secs(60),
                is_state(RentalState::Running),
            )
            .await
            .unwrap();
        let complete = ix::complete(renter.key.pubkey(), rental, r.node().unwrap());
        stack
            .chain()
            .send("complete", &[complete], &renter.key, &[])
            .await
            .unwrap();
        stack
            .wait_rental(&rental, "settled", Duration::from_secs(60), is_gone)
            .await;
        // Let the node's `Idle` status reach the provisioner's view before the next open.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    println!(
        "\nProvisioning latency ({RENTALS} rentals, slot {SLOT_MS} ms, Podman {}):",
        tools().docker_host
    );
    let (p50, p95) = summary("confirmed open → SSH banner (provisioner)", latencies);
    let (raw50, raw95) = summary("engine create + start → SSH banner (raw)", raw);
    println!(
        "ratio p50 {:.2}×, p95 {:.2}×; target p50 ≤ 1.3 × raw + one slot = {:.1} ms: {}",
        p50 / raw50,
        p95 / raw95,
        1.3 * raw50 + SLOT_MS,
        if p50 <= 1.3 * raw50 + SLOT_MS {
            "met"
        } else {
            "MISSED"
        }
    );
    stack.stop_provisioner(0).await;
}

fn open_rental(i: usize) -> Vec<u8> {
    use anchor_lang::Discriminator;
    let rental = Rental {
        renter: Pubkey::new_unique(),
        id: i as u64,
        gpu_model: GPU_MODEL,
        region: 5,
        near_latitude_deg: calor::constants::NO_LOCATION,
        near_longitude_deg: calor::constants::NO_LOCATION,
        hourly_rate_micro_usd: 6_000_000,
        hours: 1,
        payment: PaymentKind::Sol as u8,
        escrowed: 40_000_000,
        protocol_fee_bps: 500,
        created_at: 1,
        state: RentalState::Queued as u8,
        bump: 255,
        ..bytemuck::Zeroable::zeroed()
    };
    let mut data = Rental::DISCRIMINATOR.to_vec();
    data.extend_from_slice(bytemuck::bytes_of(&rental));
    data
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap()
}

async fn metric(stack: &Stack, name: &str) -> Option<f64> {
    let body = http_get(stack.clusters[0].listen_port, "/metrics").await?;
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} "))?.parse().ok())
}

async fn at_scale(stack: &mut Stack) {
    stack.start_provisioner(0, &node_0_only());
    while metric(stack, "calor_resyncs_total").await.is_none() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pid = stack.clusters[0].process.as_ref().unwrap().0.id();
    let before = rss_kib(pid);
    stack.stop_provisioner(0).await;

    let written = Instant::now();
    let lamports = 10_000_000;
    for i in 0..OPEN_RENTALS {
        let address = Pubkey::new_unique();
        stack
            .chain()
            .set_account(&address, lamports, &PROGRAM_ID, &open_rental(i))
            .await
            .unwrap();
    }
    println!("\nWith {OPEN_RENTALS} open rentals (written through surfnet_setAccount in {:.1} s) and {NODES} nodes:", written.elapsed().as_secs_f64());

    // In-process: the same call the watcher makes.
    let view = std::sync::Arc::new(tokio::sync::RwLock::new(
        calor_provisioner::watch::ChainView::default(),
    ));
    let watcher = calor_provisioner::watch::Watcher {
        chain: stack.local.chain.clone(),
        ws_url: stack.local.ws_url(),
        resync_every: Duration::from_secs(30),
        view: view.clone(),
        changed: Default::default(),
        observer: std::sync::Arc::new(calor_client::watch::Everything),
        idle_timeout: Duration::from_secs(15),
    };
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        watcher.resync().await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    assert!(view.read().await.rentals.len() >= OPEN_RENTALS);
    summary("full resync (getProgramAccounts + decode)", times);

    // The provisioner serving all 64 nodes, heartbeating every 5 s, over 10,000 rentals, with
    // a production-like resync period (the tests' 2 s would re-read 10,000 accounts
    // continuously and load the 2-core machine that also runs the chain).
    let heartbeat_secs = 5;
    stack.start_provisioner(
        0,
        &ProvisionerOptions {
            heartbeat_secs,
            resync_secs: 30,
            ..Default::default()
        },
    );
    loop {
        if metric(stack, "calor_rentals_known").await.unwrap_or(0.0) as usize >= OPEN_RENTALS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (passes_0, seconds_0, beats_0) = (
        metric(stack, "calor_reconcile_pass_seconds_count")
            .await
            .unwrap(),
        metric(stack, "calor_reconcile_pass_seconds_sum")
            .await
            .unwrap(),
        metric(stack, "calor_heartbeat_transactions_total")
            .await
            .unwrap(),
    );
    let window = Duration::from_secs(30);
    tokio::time::sleep(window).await;
    let (passes, seconds, beats) = (
        metric(stack, "calor_reconcile_pass_seconds_count")
            .await
            .unwrap()
            - passes_0,
        metric(stack, "calor_reconcile_pass_seconds_sum")
            .await
            .unwrap()
            - seconds_0,
        metric(stack, "calor_heartbeat_transactions_total")
            .await
            .unwrap()
            - beats_0,
    );
    println!(
        "reconcile pass ({NODES} nodes, {OPEN_RENTALS} rentals in the view, clock + engine listing included): mean {:.1} ms over {passes} passes",
        seconds / passes * 1e3
    );
    let per_minute = beats * 60.0 / window.as_secs_f64();
    println!(
        "heartbeat transactions for {NODES} nodes: {per_minute:.1}/min at one round per {heartbeat_secs} s ({:.1}/min at the default 60 s)",
        per_minute * heartbeat_secs as f64 / 60.0
    );
    let pid = stack.clusters[0].process.as_ref().unwrap().0.id();
    let after = rss_kib(pid);
    println!("provisioner resident memory: {:.1} MiB with no rentals and 1 node, {:.1} MiB with {OPEN_RENTALS} rentals and {NODES} nodes (last resync {:.0} ms)",
        before as f64 / 1024.0, after as f64 / 1024.0, metric(stack, "calor_last_resync_seconds").await.unwrap_or(-1.0) * 1e3);
    stack.stop_provisioner(0).await;
    stack.assert_clean().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut stack = Stack::with_nodes("bench", &[1], NODES).await;
    provisioning(&mut stack).await;
    at_scale(&mut stack).await;
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join("calor-bench-workspaces"));
}
