//! The web terminal's latency on the real local stack (a harness that prints figures; nothing
//! here asserts a time).
//!
//! 1. Keystroke to echo: one byte sent, the same byte read back, through the provisioner's
//!    websocket (a TTY exec running `cat` in raw mode) beside a plain `podman exec -i` of the
//!    same `cat` in the same container, in the same run.
//! 2. Sessions per node: k sessions at once (k = 1, 2, 4, … 64), saturating (each key sent as
//!    soon as the last came back) and typing (a key every 100 ms each): the round trip's p50
//!    and p99 across all of them, and the k at which the p50 first doubled.
//!
//! cargo bench --profile dev -p calor-provisioner --bench terminal --ignore-rust-version
#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use calor_client::access::AccessAction;
use calor_provisioner::runtime::container_name;
use support::terminal::{signed, Terminal};
use support::*;

const SAMPLES: usize = 400;
const WARMUP: usize = 20;
const ROUNDS_PER_SESSION: usize = 30;
const MAX_SESSIONS: usize = 64;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn p50_p99(mut ms: Vec<f64>) -> (f64, f64) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (percentile(&ms, 50.0), percentile(&ms, 99.0))
}

/// A session running `cat` with the terminal in raw mode: each byte typed comes back once.
async fn echo_session(port: u16, renter: &Renter, rental: &calor_client::Pubkey) -> Terminal {
    let mut t = Terminal::open(
        port,
        rental,
        &signed(&renter.key, port, rental, AccessAction::Terminal),
    )
    .await;
    t.send("stty raw -echo; echo READY; exec cat\n").await;
    t.read_until("READY\n", Duration::from_secs(30)).await;
    t
}

async fn round_trips(t: &mut Terminal, n: usize) -> Vec<f64> {
    let mut ms = Vec::with_capacity(n);
    for i in 0..n {
        let key = char::from(b'a' + (i % 26) as u8).to_string();
        let start = Instant::now();
        t.send(&key).await;
        t.read_until(&key, Duration::from_secs(30)).await;
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    ms
}

/// The same through `podman exec -i <container> cat` (no TTY: a pipe each way).
fn podman_exec_round_trips(container: &str, n: usize) -> Vec<f64> {
    let mut child = std::process::Command::new("podman")
        .args([
            "--runtime",
            "/usr/bin/runc",
            "--cgroup-manager",
            "cgroupfs",
            "exec",
            "-i",
            container,
            "cat",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("podman exec");
    let (mut stdin, mut stdout) = (child.stdin.take().unwrap(), child.stdout.take().unwrap());
    let mut ms = Vec::with_capacity(n);
    let mut byte = [0u8; 1];
    for i in 0..n {
        let key = b'a' + (i % 26) as u8;
        let start = Instant::now();
        stdin.write_all(&[key]).unwrap();
        stdin.flush().unwrap();
        stdout.read_exact(&mut byte).unwrap();
        assert_eq!(byte[0], key);
        ms.push(start.elapsed().as_secs_f64() * 1e3);
    }
    drop(stdin);
    let _ = child.wait();
    ms
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut stack = Stack::new("bench-terminal", &[1]).await;
    stack.start_provisioner(0, &ProvisionerOptions::default());
    let port = stack.clusters[0].listen_port;
    let mut renter = Renter::new(&stack).await;
    let rental = renter.running(&stack, None, Vec::new()).await;
    wait_ssh_port(&stack.clusters[0], &rental).await;
    let container = container_name(&rental);
    println!(
        "cores: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );

    let mut sessions: Vec<Terminal> = Vec::new();

    // 1. one session, beside podman exec
    let mut t = echo_session(port, &renter, &rental).await;
    round_trips(&mut t, WARMUP).await;
    let websocket = round_trips(&mut t, SAMPLES).await;
    t.close().await;
    let name = container.clone();
    let podman = tokio::task::spawn_blocking(move || {
        podman_exec_round_trips(&name, WARMUP);
        podman_exec_round_trips(&name, SAMPLES)
    })
    .await
    .unwrap();
    let (ws50, ws99) = p50_p99(websocket);
    let (pe50, pe99) = p50_p99(podman);
    println!("keystroke to echo, {SAMPLES} samples each:");
    println!("  websocket terminal (TTY exec, cat raw)  p50 {ws50:>7.3} ms   p99 {ws99:>7.3} ms");
    println!("  podman exec -i cat                      p50 {pe50:>7.3} ms   p99 {pe99:>7.3} ms");

    // 2. sessions at once: saturating (each sends its next key as soon as the last came back)
    // and typing (a key every 100 ms each, as a fast typist)
    for (mode, pause) in [
        ("saturating", None),
        (
            "typing, a key every 100 ms",
            Some(Duration::from_millis(100)),
        ),
    ] {
        println!("{mode}, {ROUNDS_PER_SESSION} round trips a session:");
        let mut baseline = None;
        let mut doubled_at = None;
        let mut k = 1;
        while k <= MAX_SESSIONS {
            while sessions.len() < k {
                sessions.push(echo_session(port, &renter, &rental).await);
            }
            let tasks: Vec<_> = sessions
                .drain(..)
                .enumerate()
                .map(|(i, mut t)| {
                    tokio::spawn(async move {
                        let mut ms = Vec::new();
                        if let Some(pause) = pause {
                            // spread the sessions' keystrokes over the pause
                            tokio::time::sleep(pause * i as u32 / k as u32).await;
                            for _ in 0..ROUNDS_PER_SESSION {
                                ms.extend(round_trips(&mut t, 1).await);
                                tokio::time::sleep(pause).await;
                            }
                        } else {
                            ms = round_trips(&mut t, ROUNDS_PER_SESSION).await;
                        }
                        (t, ms)
                    })
                })
                .collect();
            let mut all = Vec::new();
            for task in tasks {
                let (t, ms) = task.await.unwrap();
                sessions.push(t);
                all.extend(ms);
            }
            let (p50, p99) = p50_p99(all);
            let base = *baseline.get_or_insert(p50);
            println!("  {k:>3} sessions   p50 {p50:>7.3} ms   p99 {p99:>8.3} ms   p50 {:>5.2}× one session's", p50 / base);
            if p50 >= 2.0 * base && doubled_at.is_none() {
                doubled_at = Some(k);
            }
            k *= 2;
        }
        match doubled_at {
            Some(k) => println!("  the p50 first doubled at {k} sessions"),
            None => println!("  the p50 had not doubled at {MAX_SESSIONS} sessions"),
        }
    }
    for t in sessions {
        t.close().await;
    }
    stack.finish(&[rental]).await;
    stack
        .wait_rental(&rental, "settled", Duration::from_secs(60), is_gone)
        .await;
}
