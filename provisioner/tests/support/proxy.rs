//! Links a test can break: a TCP proxy to the chain (cut, or stalled: connections stay open
//! and nothing passes), and a Docker API proxy in front of the engine that can be cut or made
//! to misbehave the way engines do (a 500 on start, Podman's `stopped` state).
#![allow(dead_code)]
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UnixStream};
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use super::free_port;

/// A TCP proxy to `127.0.0.1:target` that can be cut (every connection dropped, new ones
/// refused), stalled (open connections stop passing bytes) and restored.
pub struct Proxy {
    pub port: u16,
    target: u16,
    tasks: Arc<Mutex<JoinSet<()>>>,
    /// Connections accepted before this epoch pass nothing.
    epoch: Arc<AtomicU64>,
}

impl Proxy {
    pub async fn start(target: u16) -> Proxy {
        let proxy = Proxy {
            port: free_port(),
            target,
            tasks: Arc::default(),
            epoch: Arc::default(),
        };
        proxy.restore().await;
        proxy
    }

    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let (target, tasks, epoch) = (self.target, self.tasks.clone(), self.epoch.clone());
        self.tasks.lock().await.spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let Ok(outbound) = TcpStream::connect(("127.0.0.1", target)).await else {
                    continue;
                };
                let link = Link {
                    born: epoch.load(Ordering::SeqCst),
                    epoch: epoch.clone(),
                };
                tasks
                    .lock()
                    .await
                    .spawn(async move { pump(inbound, outbound, link).await });
            }
        });
    }

    pub async fn cut(&self) {
        self.tasks.lock().await.abort_all();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    /// Open connections stop passing data (a silently stalled link); new ones still work.
    pub fn stall_open_connections(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }
}

/// One proxied connection: stalled once the proxy's epoch moved past the one it was born in.
#[derive(Clone)]
struct Link {
    born: u64,
    epoch: Arc<AtomicU64>,
}

impl Link {
    fn stalled(&self) -> bool {
        self.epoch.load(Ordering::SeqCst) > self.born
    }
}

/// Copies both ways; once the link is stalled it never passes a byte again.
async fn pump(inbound: TcpStream, outbound: TcpStream, link: Link) {
    let (ir, iw) = inbound.into_split();
    let (or, ow) = outbound.into_split();
    tokio::join!(one_way(ir, ow, link.clone()), one_way(or, iw, link));
}

async fn one_way(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    link: Link,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if link.stalled() {
            continue; // swallowed
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// A Docker Engine API proxy on TCP in front of the engine's unix socket, one request per
/// connection (as the provisioner's client makes them).
pub struct EngineProxy {
    pub port: u16,
    socket: PathBuf,
    /// Answer the next N `POST …/containers/{id}/start` with a 500 "container state improper".
    pub fail_starts: Arc<AtomicU32>,
    /// Report `exited` containers as Podman's `stopped` in listings.
    pub report_stopped: Arc<AtomicBool>,
    /// Refuse every connection (the engine is down).
    pub down: Arc<AtomicBool>,
    /// Starts answered with the injected 500.
    pub starts_failed: Arc<AtomicU32>,
}

impl EngineProxy {
    pub async fn start(docker_host: &str) -> EngineProxy {
        let socket = PathBuf::from(
            docker_host
                .strip_prefix("unix://")
                .expect("a unix engine socket"),
        );
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let proxy = EngineProxy {
            port: listener.local_addr().unwrap().port(),
            socket,
            fail_starts: Arc::default(),
            report_stopped: Arc::default(),
            down: Arc::default(),
            starts_failed: Arc::default(),
        };
        let (socket, fail, stopped, down, failed) = (
            proxy.socket.clone(),
            proxy.fail_starts.clone(),
            proxy.report_stopped.clone(),
            proxy.down.clone(),
            proxy.starts_failed.clone(),
        );
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                if down.load(Ordering::SeqCst) {
                    drop(conn);
                    continue;
                }
                let (socket, fail, stopped, failed) = (
                    socket.clone(),
                    fail.clone(),
                    stopped.clone(),
                    failed.clone(),
                );
                tokio::spawn(async move {
                    let _ = serve(conn, socket, fail, stopped, failed).await;
                });
            }
        });
        proxy
    }

    pub fn docker_host(&self) -> String {
        format!("tcp://127.0.0.1:{}", self.port)
    }
}

async fn serve(
    mut conn: TcpStream,
    socket: PathBuf,
    fail_starts: Arc<AtomicU32>,
    report_stopped: Arc<AtomicBool>,
    starts_failed: Arc<AtomicU32>,
) -> std::io::Result<()> {
    let (head, body) = read_message(&mut conn).await?;
    let request_line = head.lines().next().unwrap_or_default().to_string();
    let mut parts = request_line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let is_start = method == "POST" && path.contains("/containers/") && path.ends_with("/start");
    if is_start
        && fail_starts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    {
        starts_failed.fetch_add(1, Ordering::SeqCst);
        let body = r#"{"cause":"container state improper","message":"container state improper","response":500}"#;
        let response = format!(
            "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(response.as_bytes()).await?;
        return Ok(());
    }
    let mut upstream = UnixStream::connect(&socket).await?;
    // one exchange: the engine closes after answering, so the answer can be read to its end
    let head = head.replacen("\r\n", "\r\nconnection: close\r\n", 1);
    upstream.write_all(head.as_bytes()).await?;
    upstream.write_all(&body).await?;
    let mut response = Vec::new();
    upstream.read_to_end(&mut response).await?;
    let listing = method == "GET" && path.contains("/containers/json");
    if listing && report_stopped.load(Ordering::SeqCst) {
        response = rewrite_body(&response, |b| {
            String::from_utf8_lossy(b)
                .replace("\"State\":\"exited\"", "\"State\":\"stopped\"")
                .into_bytes()
        });
    }
    conn.write_all(&response).await
}

/// Reads an HTTP message head and its Content-Length body.
async fn read_message(conn: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..end]).to_string();
    let length = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    let mut body = data[end..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    Ok((head, body))
}

/// Rewrites a whole HTTP response's body (de-chunked if need be) and sends it with a
/// Content-Length.
fn rewrite_body(response: &[u8], f: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response.to_vec();
    };
    let head = String::from_utf8_lossy(&response[..end]).to_string();
    let raw = &response[end + 4..];
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked { dechunk(raw) } else { raw.to_vec() };
    let body = f(&body);
    let kept: Vec<&str> = head
        .split("\r\n")
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            !l.starts_with("content-length:") && !l.starts_with("transfer-encoding:")
        })
        .collect();
    let mut out = format!(
        "{}\r\ncontent-length: {}\r\n\r\n",
        kept.join("\r\n"),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&raw[..i])
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = i + 2;
        out.extend_from_slice(&raw[start..(start + size).min(raw.len())]);
        raw = &raw[(start + size + 2).min(raw.len())..];
    }
    out
}
