//! calor-api on this machine, in one run, side by side:
//! - `GET /api/gpus` and `GET /api/jobs/{id}` (signed in, a settled job with its timeline)
//!   beside a static body of the same size served by the same server behind the same
//!   middleware: throughput and latency percentiles from keep-alive connections;
//! - the indexer rebuilding 10,000 historical rentals from a local chain into SQLite and into
//!   PostgreSQL: transactions and events a second, and the whole rebuild's time;
//! - the process's memory (server, client and index together: one process).
//!
//! Run: `cargo bench -p calor-api --bench api` (after `source scripts/local-tools.sh;
//! prepare_local_tools`). `CALOR_BENCH_RENTALS` changes the history's size.
#[path = "../tests/chain/mod.rs"]
#[allow(dead_code)]
mod chain;
#[path = "../../provisioner/tests/support/mod.rs"]
#[allow(unused_imports)]
mod stack;
#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use calor_api::http::{router_with, App};
use calor_api::index::Indexer;
use calor_api::store::Store;
use calor_client::rpc::{Chain, SendPolicy};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

const CONNECTIONS: usize = 32;
const DURATION: Duration = Duration::from_secs(5);

struct Load {
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
    max: Duration,
    body_bytes: usize,
}

/// `CONNECTIONS` keep-alive connections asking for `path` for `DURATION`.
async fn load(port: u16, path: &str, bearer: Option<&str>) -> Load {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: bench\r\n{}\r\n",
        bearer
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default()
    );
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..CONNECTIONS {
        let request = request.clone();
        let path = path.to_string();
        workers.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap();
            stream.set_nodelay(true).unwrap();
            let mut stream = BufReader::new(stream);
            let mut latencies = Vec::new();
            let mut body_bytes = 0;
            let mut line = String::new();
            while started.elapsed() < DURATION {
                let sent = Instant::now();
                stream
                    .get_mut()
                    .write_all(request.as_bytes())
                    .await
                    .unwrap();
                let mut length = 0;
                let mut status = 0;
                loop {
                    line.clear();
                    stream.read_line(&mut line).await.unwrap();
                    if status == 0 {
                        status = line
                            .split(' ')
                            .nth(1)
                            .and_then(|s| s.parse().ok())
                            .unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                stream.read_exact(&mut body).await.unwrap();
                assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
                body_bytes = length;
                latencies.push(sent.elapsed());
            }
            (latencies, body_bytes)
        }));
    }
    let mut all = Vec::new();
    let mut body_bytes = 0;
    for w in workers {
        let (l, b) = w.await.unwrap();
        all.extend(l);
        body_bytes = b;
    }
    let took = started.elapsed();
    all.sort();
    let at = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Load {
        requests: all.len(),
        per_second: all.len() as f64 / took.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        max: *all.last().unwrap(),
        body_bytes,
    }
}

fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Rebuilds the index of the chain into `url`; (transactions, events, time).
async fn rebuild(rpc: &str, url: &str) -> (u64, i64, Duration) {
    let store = Store::open(url).await.unwrap();
    let chain = Arc::new(Chain::new(rpc.to_string(), SendPolicy::default()));
    let indexer = Indexer::new(chain, store.clone(), Duration::from_millis(100));
    indexer.reset().await.unwrap();
    let started = Instant::now();
    while indexer.pass().await.unwrap() > 0 {}
    let took = started.elapsed();
    let events: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM job_events")
            .fetch_one(store.pool())
            .await
            .unwrap(),
        0,
    );
    let transactions = indexer.progress.borrow().transactions;
    (transactions, events, took)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let rentals: u64 = std::env::var("CALOR_BENCH_RENTALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let stack = stack::Stack::new("api-bench", &[1]).await;
    let renter = Keypair::new();
    calor_migrations::fund(stack.chain(), &renter.pubkey())
        .await
        .unwrap();
    calor_migrations::fund(stack.chain(), &renter.pubkey())
        .await
        .unwrap();
    let made = Instant::now();
    chain::make_history(&stack, &renter, 0..rentals, 6).await;
    eprintln!(
        "made {rentals} rentals on the local chain in {:.1} s",
        made.elapsed().as_secs_f64()
    );

    // The index, rebuilt into each store.
    let dir = support::temp_dir("bench");
    let sqlite = format!("sqlite://{}/api.db", dir.display());
    let pg = support::Postgres::start();
    let rpc = stack.local.rpc_url();
    let on_sqlite = rebuild(&rpc, &sqlite).await;
    let on_postgres = rebuild(&rpc, &pg.url).await;

    // The API over the SQLite index, with a static body the size of the catalog.
    let mut chain_settings = chain::settings(&stack);
    chain_settings.index_poll = Duration::from_millis(500);
    chain_settings.market_refresh = Duration::from_millis(1000);
    let store = Store::open(&sqlite).await.unwrap();
    let service = calor_api::serve::Service::start(
        store,
        &chain_settings,
        support::settings(),
        calor_api::limits::Limits::new(
            support::rate(u32::MAX, u32::MAX),
            support::rate(u32::MAX, u32::MAX),
        ),
        false,
        Box::new(calor_api::http::system_clock),
    )
    .await
    .unwrap();
    let app: Arc<App> = service.app.clone();
    let catalog = service.market.snapshot().gpus_body.to_string();
    let same_size: &'static str = Box::leak(vec!["x"; catalog.len()].concat().into_boxed_str());
    let extra = Router::new().route(
        "/api/bench/static",
        get(move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                same_size,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let routes =
        router_with(extra, app, None).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    let api = support::Api::attach(port);
    let token = api
        .sign_in(&renter.pubkey(), |m| renter.sign_message(m).into())
        .await;
    let job = format!(
        "/api/jobs/{}",
        calor_client::pda::rental(&renter.pubkey(), rentals - 1)
    );

    let gpus = load(port, "/api/gpus", None).await;
    let fixed = load(port, "/api/bench/static", None).await;
    let one_job = load(port, &job, Some(&token)).await;
    let (rss, peak) = rss_mib();

    println!("\ncalor-api on this machine ({} cores), {CONNECTIONS} keep-alive connections, {} s each, client in the same process", std::thread::available_parallelism().map_or(0, |n| n.get()), DURATION.as_secs());
    println!("| request | body bytes | requests | req/s | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, l) in [
        ("GET /api/gpus", &gpus),
        ("static body, same size", &fixed),
        ("GET /api/jobs/{id} (signed in)", &one_job),
    ] {
        println!(
            "| {name} | {} | {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms |",
            l.body_bytes,
            l.requests,
            l.per_second,
            l.p50.as_secs_f64() * 1e3,
            l.p99.as_secs_f64() * 1e3,
            l.max.as_secs_f64() * 1e3
        );
    }
    println!(
        "GET /api/gpus is {:.2}x the static body's throughput",
        gpus.per_second / fixed.per_second
    );
    println!("\nindex rebuild of {rentals} historical rentals (from the local chain's RPC)");
    println!("| store | transactions | events | time | transactions/s | events/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, (txs, events, took)) in [("SQLite", on_sqlite), ("PostgreSQL", on_postgres)] {
        println!(
            "| {name} | {txs} | {events} | {:.1} s | {:.0} | {:.0} |",
            took.as_secs_f64(),
            txs as f64 / took.as_secs_f64(),
            events as f64 / took.as_secs_f64()
        );
    }
    println!("\nmemory of this process (API, load client and index): RSS {rss:.0} MiB, peak {peak:.0} MiB");
    service.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
