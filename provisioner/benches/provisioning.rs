//! Provisioning latency and resync cost on the real local stack (a harness that prints
//! figures; nothing here asserts a time).
//!
//! 1. Provisioning latency: from a confirmed `open_rental_sol` to the instance's SSH port
//!    answering with an SSH banner, over RENTALS rentals served one after another by one
//!    node; beside it the raw engine create + start + SSH banner time of the same image,
//!    measured in the same run. Target: p50 ≤ 1.3 × raw p50 + one slot.
//! 2. Resync with 10,000 open rentals: a full `getProgramAccounts` read into the view, and
//!    the provisioner's resident memory with them loaded.
//!
//! cargo bench -p calor-provisioner --bench provisioning --ignore-rust-version
#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use calor_client::accounts::{PaymentKind, Rental, RentalState};
use calor_client::{instructions as ix, Pubkey, PROGRAM_ID};
use calor_provisioner::runtime::{
    container_body, ssh_ready, DockerRuntime, InstanceSpec, Limits, Runtime,
};
use solana_signer::Signer;
use support::*;

const RENTALS: usize = 20;
const OPEN_RENTALS: usize = 10_000;
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
    let engine = DockerRuntime::connect(&tools().docker_host).unwrap();
    let rental = Pubkey::new_unique();
    let spec = InstanceSpec {
        rental,
        node: Pubkey::new_unique(),
        provider: Pubkey::new_unique(),
        image: image.into(),
        ssh_public_key: Some("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBench bench".into()),
        gpu_uuids: vec![],
        attach_gpus: false,
        ssh_bind_ip: "127.0.0.1".into(),
        limits: Limits {
            nofile: (1024, 20000),
            nproc: (1024, 1024),
            pids: 4096,
        },
    };
    assert!(container_body(&spec).image.is_some());
    let started = Instant::now();
    let instance = engine.ensure(&spec).await.expect("create + start");
    let port = instance.ssh_port.expect("published port");
    while !ssh_ready("127.0.0.1", port, Duration::from_secs(2)).await {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ms = started.elapsed().as_secs_f64() * 1e3;
    engine.remove(&rental).await.unwrap();
    ms
}

async fn provisioning(stack: &mut Stack) {
    stack.start_provisioner(0, &ProvisionerOptions::default());
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

async fn resync(stack: &mut Stack) {
    stack.start_provisioner(0, &ProvisionerOptions::default());
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
    println!("\nResync with {OPEN_RENTALS} open rentals (written through surfnet_setAccount in {:.1} s):", written.elapsed().as_secs_f64());

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
        metrics: Default::default(),
    };
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        watcher.resync().await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    assert!(view.read().await.rentals.len() >= OPEN_RENTALS);
    summary("full resync (getProgramAccounts + decode)", times);

    stack.start_provisioner(0, &ProvisionerOptions::default());
    loop {
        if metric(stack, "calor_rentals_known").await.unwrap_or(0.0) as usize >= OPEN_RENTALS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // a few reconcile passes over them
    let pid = stack.clusters[0].process.as_ref().unwrap().0.id();
    let after = rss_kib(pid);
    println!("provisioner resident memory: {:.1} MiB with no rentals, {:.1} MiB with {OPEN_RENTALS} (last resync {} ms)",
        before as f64 / 1024.0, after as f64 / 1024.0, metric(stack, "calor_last_resync_milliseconds").await.unwrap_or(-1.0));
    stack.stop_provisioner(0).await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut stack = Stack::new("bench", &[1]).await;
    provisioning(&mut stack).await;
    resync(&mut stack).await;
}
