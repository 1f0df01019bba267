//! The indexer against a real chain and the real `calor-api` process: killed with SIGKILL
//! while backfilling and while following, restarted each time, it ends with every rental
//! event once (no duplicate, no gap) and the same signatures the chain lists for each
//! rental; `--reindex` rebuilds exactly the same rows.
#[path = "chain/mod.rs"]
#[allow(dead_code)]
mod chain;
#[path = "../../provisioner/tests/support/mod.rs"]
#[allow(unused_imports)]
mod stack;
mod support;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use calor_api::store::Store;
use calor_client::history;
use calor_client::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;
use sqlx::Row;
use stack::{free_port, Stack};
use support::*;

struct ApiProcess {
    child: Child,
    port: u16,
}

impl ApiProcess {
    fn start(stack: &Stack, db: &str, extra: &[&str], log: &std::path::Path) -> ApiProcess {
        let port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(api_bin())
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--database-url", db])
            .args([
                "--rpc-url",
                &stack.local.rpc_url(),
                "--ws-url",
                &stack.local.ws_url(),
            ])
            .args([
                "--sol-usd-price-account",
                &stack.protocol.sol_usd_price.to_string(),
            ])
            .args(["--index-poll-ms", "100"])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        ApiProcess { child, port }
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }

    /// Waits until the index has applied `total` transactions since this process started.
    async fn wait_applied(&self, total: u64) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Some(h) = health(self.port).await {
                if h["index"]["caughtUp"] == true
                    && h["index"]["transactions"].as_u64() >= Some(total)
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the index did not apply {total} transactions in time");
    }
}

impl Drop for ApiProcess {
    /// A failing test does not leave the process running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Transactions the index has applied, as its cursor says.
async fn applied(db: &str) -> u64 {
    let store = Store::open(db).await.unwrap();
    let row = sqlx::query("SELECT transactions FROM index_cursor WHERE id = 1")
        .fetch_optional(store.pool())
        .await
        .unwrap();
    row.map_or(0, |r| r.get::<i64, _>(0) as u64)
}

/// Every row of the index, in a stable order.
async fn dump(db: &str) -> (Vec<String>, Vec<String>) {
    let store = Store::open(db).await.unwrap();
    let jobs = sqlx::query("SELECT * FROM jobs ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let events = sqlx::query(
        "SELECT signature, idx, job, rental, seq, slot, block_time, kind, detail FROM job_events ORDER BY signature, idx",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let row_text = |r: &sqlx::any::AnyRow| {
        (0..r.len())
            .map(|i| {
                r.try_get::<Option<i64>, _>(i)
                    .map(|v| format!("{v:?}"))
                    .or_else(|_| r.try_get::<Option<String>, _>(i).map(|v| format!("{v:?}")))
                    .unwrap()
            })
            .collect::<Vec<_>>()
            .join("|")
    };
    (
        jobs.iter().map(row_text).collect(),
        events.iter().map(row_text).collect(),
    )
}

/// The index holds each of `rentals` once, with exactly the chain's transactions, every
/// job's events numbered 1..n, and every escrow refunded.
async fn assert_matches_chain(db: &str, stack: &Stack, rentals: &[Pubkey]) {
    let store = Store::open(db).await.unwrap();
    let pool = store.pool();
    let jobs: i64 = sqlx::query("SELECT COUNT(*) FROM jobs")
        .fetch_one(pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(jobs as usize, rentals.len());
    let gaps = sqlx::query("SELECT job, COUNT(*), MAX(seq), MIN(seq) FROM job_events GROUP BY job")
        .fetch_all(pool)
        .await
        .unwrap();
    for g in &gaps {
        let (count, max, min): (i64, i64, i64) = (g.get(1), g.get(2), g.get(3));
        assert_eq!(
            (count, min, max),
            (max, 1, count),
            "job {} has a gap or a duplicate",
            g.get::<String, _>(0)
        );
    }
    let indexed: BTreeSet<(String, String)> =
        sqlx::query("SELECT rental, signature FROM job_events")
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
    let mut on_chain = BTreeSet::new();
    for rental in rentals {
        for s in stack
            .chain()
            .rpc()
            .get_signatures_for_address(rental)
            .await
            .unwrap()
        {
            if s.err.is_none() {
                on_chain.insert((rental.to_string(), s.signature));
            }
        }
    }
    assert_eq!(indexed, on_chain);
    let unsettled: i64 = sqlx::query(
        "SELECT COUNT(*) FROM jobs WHERE settled_at IS NULL OR refund <> escrowed OR state <> 'cancelled'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
    .get(0);
    assert_eq!(unsettled, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_sqlite_the_index_survives_sigkill_and_rebuilds_the_same_rows() {
    let dir = temp_dir("index");
    let db = format!("sqlite://{}/api.db", dir.display());
    survives_sigkill(&db, &dir).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn on_postgres_the_index_survives_sigkill_and_rebuilds_the_same_rows() {
    let pg = Postgres::start();
    let dir = temp_dir("index-pg");
    survives_sigkill(&pg.url, &dir).await;
}

async fn survives_sigkill(db: &str, dir: &std::path::Path) {
    let db = db.to_string();
    let stack = Stack::new("api-index", &[]).await;
    let log = dir.join("api.log");
    let renter = Keypair::new();
    calor_migrations::fund(stack.chain(), &renter.pubkey())
        .await
        .unwrap();
    let mut rentals = chain::make_history(&stack, &renter, 0..48, 1).await;
    let total = history::signatures_from(stack.chain(), None)
        .await
        .unwrap()
        .len() as u64;

    // Backfill, killed again and again (a little later after its first progress each time)
    // until it has read everything.
    let mut partial_kills = 0;
    let mut delay = Duration::from_millis(10);
    loop {
        let before = applied(&db).await;
        let api = ApiProcess::start(&stack, &db, &[], &log);
        let deadline = Instant::now() + Duration::from_secs(60);
        while applied_now(&api).await == 0 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(delay).await;
        api.kill();
        let after = applied(&db).await;
        if after > before && after < total {
            partial_kills += 1;
        }
        if after >= total {
            break;
        }
        delay *= 2;
    }
    assert!(
        partial_kills > 0,
        "no kill landed mid-backfill; see {}",
        log.display()
    );
    assert_eq!(applied(&db).await, total, "each transaction applied once");
    assert_matches_chain(&db, &stack, &rentals).await;

    // Following: new history arrives while it runs; killed in the middle, restarted.
    let api = ApiProcess::start(&stack, &db, &[], &log);
    let more = chain::make_history(&stack, &renter, 100..116, 1);
    let (more, _) = tokio::join!(more, async {
        tokio::time::sleep(Duration::from_millis(700)).await;
    });
    let mid_follow = applied_now(&api).await;
    api.kill();
    rentals.extend(more);
    let total = history::signatures_from(stack.chain(), None)
        .await
        .unwrap()
        .len() as u64;
    let done = applied(&db).await;
    let api = ApiProcess::start(&stack, &db, &[], &log);
    api.wait_applied(total - done).await;
    api.kill();
    assert!(
        mid_follow > 0,
        "the follower applied nothing before it was killed"
    );
    assert_eq!(applied(&db).await, total);
    assert_matches_chain(&db, &stack, &rentals).await;

    // --reindex: the same rows from scratch.
    let before = dump(&db).await;
    let api = ApiProcess::start(&stack, &db, &["--reindex"], &log);
    api.wait_applied(total).await;
    api.kill();
    let after = dump(&db).await;
    for (table, (a, b)) in [
        ("jobs", (&before.0, &after.0)),
        ("job_events", (&before.1, &after.1)),
    ] {
        assert_eq!(
            a.len(),
            b.len(),
            "{table}: row counts differ after --reindex"
        );
        if let Some((x, y)) = a.iter().zip(b.iter()).find(|(x, y)| x != y) {
            panic!("{table} differs after --reindex:\n before {x}\n after  {y}");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Transactions applied by a running process (from its health report).
async fn applied_now(api: &ApiProcess) -> u64 {
    health(api.port)
        .await
        .and_then(|h| h["index"]["transactions"].as_u64())
        .unwrap_or(0)
}

/// `GET /healthz` of a process, if it answers.
async fn health(port: u16) -> Option<serde_json::Value> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    let mut response = String::new();
    s.read_to_string(&mut response).await.ok()?;
    serde_json::from_str(response.split_once("\r\n\r\n")?.1).ok()
}
