//! The API served on a real socket over a real store: a SQLite file, or a throwaway
//! PostgreSQL cluster from Debian's package (started here as the `postgres` user, on a free
//! port, removed afterwards).
#![allow(dead_code)]
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use calor_api::auth::{Auth, AuthSettings};
use calor_api::config::ChainSettings;
use calor_api::http::{router, App, Metrics};
use calor_api::limits::{Limits, Rate};
use calor_api::serve::Service;
use calor_api::store::Store;
use calor_client::siws::SignInMessage;
use calor_client::Pubkey;
use serde_json::Value;

pub const START: i64 = 1_796_000_000;

pub fn temp_dir(name: &str) -> PathBuf {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dir = std::env::temp_dir().join(format!(
        "calor-api-{name}-{}-{}",
        std::process::id(),
        listener.local_addr().unwrap().port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A PostgreSQL server of its own; stopped and removed on drop.
pub struct Postgres {
    dir: PathBuf,
    bin: PathBuf,
    pub url: String,
}

fn as_postgres(command: &str) -> std::process::Output {
    Command::new("su")
        .args(["postgres", "-s", "/bin/sh", "-c", command])
        .output()
        .expect("run su")
}

impl Postgres {
    pub fn start() -> Postgres {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()
            .and_then(|versions| {
                versions
                    .flatten()
                    .map(|v| v.path().join("bin"))
                    .filter(|b| b.join("initdb").exists())
                    .max()
            })
            .expect("PostgreSQL is not installed: scripts/local-tools.sh installs Debian's `postgresql`");
        let dir = temp_dir("pg");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(chown.success());
        let d = dir.display();
        let b = bin.display();
        let init = as_postgres(&format!(
            "{b}/initdb -D {d}/data -A trust -U calor >{d}/initdb.log 2>&1"
        ));
        assert!(init.status.success(), "initdb: see {d}/initdb.log");
        let start = as_postgres(&format!(
            "{b}/pg_ctl -D {d}/data -o \"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off\" -l {d}/log -w start"
        ));
        assert!(start.status.success(), "pg_ctl start: see {d}/log");
        Postgres {
            url: format!("postgres://calor@127.0.0.1:{port}/postgres"),
            dir,
            bin,
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&format!(
            "{}/pg_ctl -D {}/data -w stop -m immediate",
            self.bin.display(),
            self.dir.display()
        ));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Which store a test runs on.
pub enum Backing {
    Sqlite(PathBuf),
    Postgres(Postgres),
}

pub struct Api {
    pub base: String,
    pub port: u16,
    pub clock: Arc<AtomicI64>,
    pub settings: AuthSettings,
    /// The chain-following side, when started `with_chain`.
    pub service: Option<Service>,
    server: Option<tokio::task::JoinHandle<()>>,
    _backing: Option<Backing>,
}

impl Drop for Api {
    fn drop(&mut self) {
        if let Some(server) = &self.server {
            server.abort();
        }
        if let Some(service) = self.service.take() {
            // the tasks end with the runtime; ask them to stop first
            drop(service);
        }
        if let Some(Backing::Sqlite(dir)) = &self._backing {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

pub fn settings() -> AuthSettings {
    AuthSettings {
        domain: "app.calor.test".into(),
        uri: "http://api.calor.test/api".into(),
        statement: "Sign in to Calor. This request costs nothing and moves no funds.".into(),
        chain_id: "solana:localnet".into(),
        challenge_ttl: Duration::from_secs(300),
        access_ttl: Duration::from_secs(900),
        refresh_ttl: Duration::from_secs(86_400),
    }
}

/// `per_minute` calls a minute with a burst of `burst`.
pub fn rate(per_minute: u32, burst: u32) -> Rate {
    Rate {
        per_minute: per_minute.try_into().unwrap(),
        burst: burst.try_into().unwrap(),
    }
}

impl Api {
    /// Limits high enough not to matter to a test of something else.
    pub async fn on(backing: Backing) -> Api {
        Api::with_limits(
            backing,
            Limits::new(rate(6000, 1000), rate(6000, 1000)),
            false,
        )
        .await
    }

    pub async fn with_limits(backing: Backing, limits: Limits, trust_forwarded_for: bool) -> Api {
        let store = Store::open(&backing_url(&backing))
            .await
            .expect("open the store");
        let clock = Arc::new(AtomicI64::new(START));
        let now = clock.clone();
        let app = Arc::new(App {
            auth: Auth::new(store.clone(), settings()),
            store,
            jobs: None,
            indexer: None,
            metrics: Metrics::default(),
            limits,
            trust_forwarded_for,
            clock: Box::new(move || now.load(Ordering::SeqCst)),
        });
        let (port, server) = serve(app).await;
        Api {
            base: format!("http://127.0.0.1:{port}"),
            port,
            clock,
            settings: settings(),
            service: None,
            server: Some(server),
            _backing: Some(backing),
        }
    }

    /// The whole service as `calor-api` runs it, following `chain`, on the system clock.
    pub async fn with_chain(backing: Backing, chain: &ChainSettings) -> Api {
        let store = Store::open(&backing_url(&backing))
            .await
            .expect("open the store");
        let service = Service::start(
            store,
            chain,
            settings(),
            Limits::new(rate(6000, 1000), rate(6000, 1000)),
            false,
            Box::new(calor_api::http::system_clock),
        )
        .await
        .expect("start the service");
        let (port, server) = serve(service.app.clone()).await;
        Api {
            base: format!("http://127.0.0.1:{port}"),
            port,
            clock: Arc::new(AtomicI64::new(0)),
            settings: settings(),
            service: Some(service),
            server: Some(server),
            _backing: Some(backing),
        }
    }

    /// Signs `address` in with `sign` (what a wallet's `solana:signIn` does); the access token.
    pub async fn sign_in(&self, address: &Pubkey, sign: impl Fn(&[u8]) -> [u8; 64]) -> String {
        let input = self
            .post("/api/auth/challenge", &serde_json::json!({}))
            .await
            .json();
        let body = sign_in_body(&input, address, sign);
        let reply = self.post("/api/auth/verify", &body).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.json()["accessToken"].as_str().unwrap().to_string()
    }

    /// Opens `path` as a server-sent event stream.
    pub async fn events(
        &self,
        path: &str,
        bearer: &str,
        last_event_id: Option<i64>,
    ) -> EventStream {
        use tokio::io::AsyncWriteExt;
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: api.calor.test\r\nAccept: text/event-stream\r\nAuthorization: Bearer {bearer}\r\n"
        );
        if let Some(id) = last_event_id {
            request.push_str(&format!("Last-Event-ID: {id}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut events = EventStream {
            reader: tokio::io::BufReader::new(stream),
            status: 0,
            pending: String::new(),
        };
        events.read_head().await;
        events
    }

    /// A client of an API served elsewhere (a benchmark's own server).
    pub fn attach(port: u16) -> Api {
        Api {
            base: format!("http://127.0.0.1:{port}"),
            port,
            clock: Arc::new(AtomicI64::new(0)),
            settings: settings(),
            service: None,
            server: None,
            _backing: None,
        }
    }

    pub fn advance(&self, secs: i64) {
        self.clock.fetch_add(secs, Ordering::SeqCst);
    }

    /// One HTTP/1.1 request; the status, the headers (lower-case names) and the body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        self.call_from(None, method, path, bearer, body).await
    }

    /// `call`, saying through `X-Forwarded-For` which client it comes from.
    pub async fn call_from(
        &self,
        client: Option<&str>,
        method: &str,
        path: &str,
        bearer: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let mut request =
            format!("{method} {path} HTTP/1.1\r\nHost: api.calor.test\r\nConnection: close\r\n");
        if let Some(token) = bearer {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        if let Some(client) = client {
            request.push_str(&format!("X-Forwarded-For: {client}, 10.0.0.1\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method == "POST" {
            request.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
            .collect();
        Reply {
            status,
            headers,
            body: body.to_string(),
        }
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.call("POST", path, None, Some(&body.to_string())).await
    }
}

/// The `calor-api` binary `cargo test` builds beside the test executables.
pub fn api_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_calor-api"))
}

/// Serves `app` on a free local port.
async fn serve(app: Arc<App>) -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let routes = router(app, Some("http://app.calor.test"))
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, routes).await.unwrap();
    });
    (port, server)
}

fn backing_url(backing: &Backing) -> String {
    match backing {
        Backing::Sqlite(dir) => format!("sqlite://{}/api.db", dir.display()),
        Backing::Postgres(pg) => pg.url.clone(),
    }
}

/// The body of `POST /api/auth/verify` for a wallet at `address` answering `input` (the
/// challenge) with `sign`: the message the Wallet Standard `signIn` writes, signed.
pub fn sign_in_body(input: &Value, address: &Pubkey, sign: impl Fn(&[u8]) -> [u8; 64]) -> Value {
    use base64::Engine as _;
    let text = SignInMessage::answering(input, &address.to_string())
        .expect("a challenge with a domain")
        .text();
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::json!({
        "address": address.to_string(),
        "signedMessage": b64.encode(text.as_bytes()),
        "signature": b64.encode(sign(text.as_bytes())),
    })
}

/// A server-sent event as received.
#[derive(Debug, Clone)]
pub struct Sse {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

/// A chunked `text/event-stream` response read as events (comments, i.e. keep-alives,
/// skipped).
pub struct EventStream {
    reader: tokio::io::BufReader<tokio::net::TcpStream>,
    pub status: u16,
    pending: String,
}

impl EventStream {
    async fn read_head(&mut self) {
        use tokio::io::AsyncBufReadExt;
        let mut line = String::new();
        self.reader.read_line(&mut line).await.unwrap();
        self.status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        loop {
            line.clear();
            self.reader.read_line(&mut line).await.unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
    }

    /// The next chunk's text; `None` at the end of the stream.
    async fn chunk(&mut self) -> Option<String> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt};
        let mut size = String::new();
        if self.reader.read_line(&mut size).await.ok()? == 0 {
            return None;
        }
        let size = usize::from_str_radix(size.trim(), 16).ok()?;
        if size == 0 {
            return None;
        }
        let mut data = vec![0; size + 2];
        self.reader.read_exact(&mut data).await.ok()?;
        data.truncate(size);
        Some(String::from_utf8_lossy(&data).into_owned())
    }

    /// The next event within `within`.
    pub async fn next(&mut self, within: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let mut event = Sse {
                    id: None,
                    event: None,
                    data: String::new(),
                };
                let mut any = false;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_string());
                        any = true;
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event.event = Some(v.trim().to_string());
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data.push_str(v.trim_start());
                        any = true;
                    }
                }
                if any {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.chunk())
                .await
                .ok()??;
            self.pending.push_str(&chunk);
        }
    }

    /// Events until one of `kind` arrives (included), within `within`.
    pub async fn until(&mut self, kind: &str, within: Duration) -> Vec<Sse> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let event = self
                .next(left)
                .await
                .unwrap_or_else(|| panic!("no `{kind}` event within {within:?}; saw {seen:?}"));
            let done = event.event.as_deref() == Some(kind);
            seen.push(event);
            if done {
                return seen;
            }
        }
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The problem's `code`, asserting the status and the problem media type.
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        self.json()["code"].as_str().unwrap().to_string()
    }
}
