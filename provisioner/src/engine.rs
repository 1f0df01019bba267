//! A small client of the Docker Engine API (as served by Docker Engine and by Podman), for the
//! calls the provisioner makes. Responses are read into tolerant types: a container state this
//! code does not know (Podman reports `stopped`, which Docker's schema lacks) is kept as text
//! instead of failing the whole listing.
//!
//! One HTTP/1.1 connection per request over a unix socket or TCP: the engine is local, a
//! connect costs microseconds, and no pool can hand a step a connection the engine closed.
use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The API version every request names: Podman 4 serves 1.41, Docker Engine accepts it.
const API: &str = "/v1.41";

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine did not answer (socket missing, refused, timed out, cut).
    #[error("container engine unreachable at {endpoint}: {reason}")]
    Unreachable { endpoint: String, reason: String },
    /// The engine answered with an error status.
    #[error("container engine answered {status} to {call}: {message}")]
    Api {
        call: String,
        status: u16,
        message: String,
    },
    #[error("container engine sent an unreadable answer to {call}: {reason}")]
    Decode { call: String, reason: String },
    #[error("unsupported DOCKER_HOST {0:?}: use unix:///path or tcp://host:port")]
    Endpoint(String),
}

impl EngineError {
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
    pub fn message(&self) -> &str {
        match self {
            Self::Api { message, .. } => message,
            _ => "",
        }
    }
}

#[derive(Debug, Clone)]
enum Endpoint {
    Unix(String),
    Tcp(String),
}

/// A connection target for the Engine API.
#[derive(Debug, Clone)]
pub struct Engine {
    endpoint: Endpoint,
    display: String,
    timeout: Duration,
}

/// A container as `GET /containers/json` lists it.
#[derive(Debug, Clone, Deserialize)]
pub struct ContainerSummary {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Labels", default)]
    pub labels: Option<HashMap<String, String>>,
    /// `running`, `exited`, `created`, … and whatever else an engine reports.
    #[serde(rename = "State", default)]
    pub state: String,
    #[serde(rename = "Ports", default)]
    pub ports: Option<Vec<PortSummary>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PortSummary {
    #[serde(rename = "PrivatePort", default)]
    pub private_port: u16,
    #[serde(rename = "PublicPort", default)]
    pub public_port: Option<u16>,
}

/// The parts of `GET /containers/{id}/json` the provisioner reads.
#[derive(Debug, Clone, Deserialize)]
pub struct ContainerDetails {
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "State", default)]
    pub state: ContainerState,
    #[serde(rename = "Config", default)]
    pub config: ContainerConfig,
    #[serde(rename = "NetworkSettings", default)]
    pub network: NetworkSettings,
    #[serde(rename = "RestartCount", default)]
    pub restart_count: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContainerState {
    #[serde(rename = "Status", default)]
    pub status: String,
    #[serde(rename = "Running", default)]
    pub running: bool,
    #[serde(rename = "OOMKilled", default)]
    pub oom_killed: bool,
    #[serde(rename = "ExitCode", default)]
    pub exit_code: i64,
    #[serde(rename = "StartedAt", default)]
    pub started_at: String,
    #[serde(rename = "FinishedAt", default)]
    pub finished_at: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ContainerConfig {
    #[serde(rename = "Labels", default)]
    pub labels: Option<HashMap<String, String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NetworkSettings {
    #[serde(rename = "Ports", default)]
    pub ports: Option<HashMap<String, Option<Vec<PortBinding>>>>,
    #[serde(rename = "Networks", default)]
    pub networks: Option<HashMap<String, EndpointSettings>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PortBinding {
    #[serde(rename = "HostIp", default)]
    pub host_ip: String,
    #[serde(rename = "HostPort", default)]
    pub host_port: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EndpointSettings {
    #[serde(rename = "IPAddress", default)]
    pub ip_address: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VolumeSummary {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Labels", default)]
    pub labels: Option<HashMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct NetworkSummary {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Labels", default)]
    pub labels: Option<HashMap<String, String>>,
}

/// What a command run in a container printed and returned.
#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub exit_code: i64,
    pub stdout: String,
    pub stderr: String,
}

/// A connection to the engine handed over to a container's process.
pub trait RawStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> RawStream for T {}

/// An exec attached with a TTY: its id (to resize it) and its terminal stream.
pub struct AttachedExec {
    pub id: String,
    pub stream: Box<dyn RawStream>,
}

/// Who serves the API (Podman and Docker differ in network options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineVersion {
    pub platform: String,
    pub version: String,
    pub api_version: String,
}

impl EngineVersion {
    pub fn is_podman(&self) -> bool {
        self.platform.to_ascii_lowercase().contains("podman")
    }
}

impl std::fmt::Display for EngineVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} (API {})",
            self.platform, self.version, self.api_version
        )
    }
}

/// Label filters as the list calls take them (`{"label": ["k=v", …]}`), JSON in the query.
fn label_filter(labels: &[(&str, &str)]) -> String {
    let values: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let filters = serde_json::json!({ "label": values });
    percent_encode(&filters.to_string())
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

impl Engine {
    pub fn connect(endpoint: &str) -> Result<Self, EngineError> {
        let parsed = if let Some(path) = endpoint.strip_prefix("unix://") {
            Endpoint::Unix(path.to_string())
        } else if let Some(addr) = endpoint
            .strip_prefix("tcp://")
            .or_else(|| endpoint.strip_prefix("http://"))
        {
            Endpoint::Tcp(addr.trim_end_matches('/').to_string())
        } else {
            return Err(EngineError::Endpoint(endpoint.into()));
        };
        Ok(Self {
            endpoint: parsed,
            display: endpoint.to_string(),
            timeout: Duration::from_secs(60),
        })
    }

    /// The engine's answer to `method path` with an optional JSON body: status and body bytes.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), EngineError> {
        let call = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let unreachable = |reason: String| EngineError::Unreachable {
            endpoint: self.display.clone(),
            reason,
        };
        let exchange = async {
            let request = Request::builder()
                .method(method)
                .uri(format!("{API}{path}"))
                .header("host", "engine")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body.unwrap_or_default())))
                .map_err(|e| unreachable(e.to_string()))?;
            let stream = self.connect_stream().await?;
            let response = send(TokioIo::new(stream), request)
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| unreachable(e.to_string()))?
                .to_bytes();
            Ok((status, bytes))
        };
        let (status, bytes) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| unreachable(format!("no answer within {:?}", self.timeout)))??;
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok((status, bytes));
        }
        // Docker sends {"message"}, Podman {"cause","message","response"}.
        let message = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).trim().to_string());
        Err(EngineError::Api {
            call,
            status: status.as_u16(),
            message,
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, EngineError> {
        let (_, bytes) = self.call(Method::GET, path, None).await?;
        serde_json::from_slice(&bytes).map_err(|e| EngineError::Decode {
            call: format!("GET {path}"),
            reason: e.to_string(),
        })
    }

    async fn post(&self, path: &str, body: Option<&Value>) -> Result<Bytes, EngineError> {
        let body = body.map(|b| serde_json::to_vec(b).expect("JSON value"));
        Ok(self.call(Method::POST, path, body).await?.1)
    }

    async fn delete(&self, path: &str) -> Result<(), EngineError> {
        self.call(Method::DELETE, path, None).await.map(|_| ())
    }

    pub async fn ping(&self) -> Result<(), EngineError> {
        self.call(Method::GET, "/_ping", None).await.map(|_| ())
    }

    pub async fn version(&self) -> Result<EngineVersion, EngineError> {
        let v: Value = self.get("/version").await?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        Ok(EngineVersion {
            platform: text(v.pointer("/Platform/Name")),
            version: text(v.get("Version")),
            api_version: text(v.get("ApiVersion")),
        })
    }

    pub async fn list_containers(
        &self,
        labels: &[(&str, &str)],
    ) -> Result<Vec<ContainerSummary>, EngineError> {
        self.get(&format!(
            "/containers/json?all=true&filters={}",
            label_filter(labels)
        ))
        .await
    }

    /// `None` when no such container exists.
    pub async fn inspect_container(
        &self,
        name: &str,
    ) -> Result<Option<ContainerDetails>, EngineError> {
        match self.get(&format!("/containers/{name}/json")).await {
            Ok(details) => Ok(Some(details)),
            Err(e) if e.status() == Some(404) => Ok(None),
            // Podman, while a removal is in progress: 500 "... no such container"
            Err(e) if e.message().ends_with("no such container") => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn create_container(&self, name: &str, body: &Value) -> Result<(), EngineError> {
        self.post(&format!("/containers/create?name={name}"), Some(body))
            .await
            .map(|_| ())
    }

    pub async fn start_container(&self, name: &str) -> Result<(), EngineError> {
        self.post(&format!("/containers/{name}/start"), None)
            .await
            .map(|_| ())
    }

    pub async fn stop_container(&self, name: &str, grace_secs: u32) -> Result<(), EngineError> {
        self.post(&format!("/containers/{name}/stop?t={grace_secs}"), None)
            .await
            .map(|_| ())
    }

    pub async fn remove_container(&self, name: &str) -> Result<(), EngineError> {
        self.delete(&format!("/containers/{name}?force=true&v=true"))
            .await
    }

    /// Runs `cmd` in a running container and waits for it (stdout and stderr collected).
    pub async fn exec(&self, container: &str, cmd: &[&str]) -> Result<ExecOutput, EngineError> {
        let create = serde_json::json!({
            "AttachStdout": true,
            "AttachStderr": true,
            "Cmd": cmd,
        });
        let id = self.create_exec(container, &create).await?;
        let stream = self
            .post(
                &format!("/exec/{id}/start"),
                Some(&serde_json::json!({ "Detach": false, "Tty": false })),
            )
            .await?;
        let (stdout, stderr) = demultiplex(&stream);
        let inspect: Value = self.get(&format!("/exec/{id}/json")).await?;
        Ok(ExecOutput {
            exit_code: inspect
                .get("ExitCode")
                .and_then(Value::as_i64)
                .unwrap_or(-1),
            stdout,
            stderr,
        })
    }

    /// Creates an exec of `cmd` with a TTY in a running container and attaches to it: the
    /// returned stream carries the terminal both ways, unframed (a TTY merges stdout and
    /// stderr). The exec ends when `cmd` does; the stream then reaches its end.
    pub async fn exec_attached(
        &self,
        container: &str,
        cmd: &[&str],
        env: &[String],
        working_dir: &str,
    ) -> Result<AttachedExec, EngineError> {
        let create = serde_json::json!({
            "AttachStdin": true,
            "AttachStdout": true,
            "AttachStderr": true,
            "Tty": true,
            "Cmd": cmd,
            "Env": env,
            "WorkingDir": working_dir,
        });
        let id = self.create_exec(container, &create).await?;
        let stream = self
            .hijack(
                &format!("/exec/{id}/start"),
                br#"{"Detach":false,"Tty":true}"#,
            )
            .await?;
        Ok(AttachedExec { id, stream })
    }

    /// Sets an attached exec's terminal size.
    pub async fn resize_exec(&self, id: &str, cols: u16, rows: u16) -> Result<(), EngineError> {
        self.post(&format!("/exec/{id}/resize?h={rows}&w={cols}"), None)
            .await
            .map(|_| ())
    }

    /// The execs the engine keeps for a container (run, running or refused to start).
    pub async fn exec_ids(&self, container: &str) -> Result<Vec<String>, EngineError> {
        let v: Value = self.get(&format!("/containers/{container}/json")).await?;
        Ok(v.get("ExecIDs")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(|i| i.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// A new connection to the engine (Nagle off on TCP: terminals send single keystrokes).
    async fn connect_stream(&self) -> Result<Box<dyn RawStream>, EngineError> {
        let unreachable = |e: std::io::Error| EngineError::Unreachable {
            endpoint: self.display.clone(),
            reason: e.to_string(),
        };
        Ok(match &self.endpoint {
            Endpoint::Unix(socket) => Box::new(
                tokio::net::UnixStream::connect(socket)
                    .await
                    .map_err(unreachable)?,
            ),
            Endpoint::Tcp(addr) => {
                let tcp = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(unreachable)?;
                let _ = tcp.set_nodelay(true);
                Box::new(tcp)
            }
        })
    }

    /// Creates an exec in `container` as `body` describes it; its id.
    async fn create_exec(&self, container: &str, body: &Value) -> Result<String, EngineError> {
        let created = self
            .post(&format!("/containers/{container}/exec"), Some(body))
            .await?;
        serde_json::from_slice::<Value>(&created)
            .ok()
            .and_then(|v| v.get("Id").and_then(Value::as_str).map(str::to_string))
            .ok_or_else(|| EngineError::Decode {
                call: "POST /containers/{id}/exec".into(),
                reason: "no exec id".into(),
            })
    }

    /// POSTs `body` to `path` asking the engine to hand over the connection (`Upgrade: tcp`),
    /// as exec start does for an attached exec, and returns the raw connection after the
    /// answer's head. Written by hand: the stream must stay usable in both directions after
    /// the request, which a pooled HTTP client does not give.
    async fn hijack(&self, path: &str, body: &[u8]) -> Result<Box<dyn RawStream>, EngineError> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let call = format!("POST {}", path.split('?').next().unwrap_or(path));
        let unreachable = |reason: String| EngineError::Unreachable {
            endpoint: self.display.clone(),
            reason,
        };
        let mut stream = self.connect_stream().await?;
        let head = format!(
            "POST {API}{path} HTTP/1.1\r\nHost: engine\r\nContent-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let exchange = async {
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(body).await?;
            stream.flush().await?;
            // The answer's head, a byte at a time: nothing after it may be consumed here.
            let mut answer = Vec::with_capacity(256);
            while !answer.ends_with(b"\r\n\r\n") {
                if answer.len() > 16 * 1024 {
                    return Err(std::io::Error::other("answer head too long"));
                }
                let mut byte = [0u8; 1];
                if stream.read(&mut byte).await? == 0 {
                    return Err(std::io::Error::other("closed before answering"));
                }
                answer.push(byte[0]);
            }
            Ok(answer)
        };
        let answer = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| unreachable(format!("no answer within {:?}", self.timeout)))?
            .map_err(|e| unreachable(e.to_string()))?;
        let answer = String::from_utf8_lossy(&answer);
        let status: u16 = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        if status == 101 || status == 200 {
            return Ok(stream);
        }
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 || rest.len() > 16 * 1024 {
                    break;
                }
                rest.extend_from_slice(&buf[..n]);
            }
        })
        .await;
        let message = serde_json::from_slice::<Value>(&rest)
            .ok()
            .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_else(|| answer.lines().next().unwrap_or_default().to_string());
        Err(EngineError::Api {
            call,
            status,
            message,
        })
    }

    pub async fn create_volume(&self, body: &Value) -> Result<(), EngineError> {
        self.post("/volumes/create", Some(body)).await.map(|_| ())
    }

    pub async fn list_volumes(
        &self,
        labels: &[(&str, &str)],
    ) -> Result<Vec<VolumeSummary>, EngineError> {
        #[derive(Deserialize)]
        struct Volumes {
            #[serde(rename = "Volumes", default)]
            volumes: Option<Vec<VolumeSummary>>,
        }
        let list: Volumes = self
            .get(&format!("/volumes?filters={}", label_filter(labels)))
            .await?;
        Ok(list.volumes.unwrap_or_default())
    }

    pub async fn remove_volume(&self, name: &str) -> Result<(), EngineError> {
        self.delete(&format!("/volumes/{name}?force=true")).await
    }

    pub async fn create_network(&self, body: &Value) -> Result<(), EngineError> {
        self.post("/networks/create", Some(body)).await.map(|_| ())
    }

    pub async fn list_networks(
        &self,
        labels: &[(&str, &str)],
    ) -> Result<Vec<NetworkSummary>, EngineError> {
        self.get(&format!("/networks?filters={}", label_filter(labels)))
            .await
    }

    pub async fn remove_network(&self, name: &str) -> Result<(), EngineError> {
        self.delete(&format!("/networks/{name}")).await
    }

    pub async fn image_exists(&self, name: &str) -> Result<bool, EngineError> {
        match self
            .call(Method::GET, &format!("/images/{name}/json"), None)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.status() == Some(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Commits a container as `repo:tag` with Dockerfile-style `changes` (e.g. a new `CMD`).
    pub async fn commit(
        &self,
        container: &str,
        repo: &str,
        tag: &str,
        changes: &str,
    ) -> Result<(), EngineError> {
        self.post(
            &format!(
                "/commit?container={container}&repo={}&tag={tag}&changes={}",
                percent_encode(repo),
                percent_encode(changes)
            ),
            Some(&serde_json::json!({})),
        )
        .await
        .map(|_| ())
    }
}

async fn send<S>(
    io: TokioIo<S>,
    request: Request<Full<Bytes>>,
) -> Result<hyper::Response<hyper::body::Incoming>, hyper::Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    sender.send_request(request).await
}

/// Splits an attached, non-TTY stream into stdout and stderr: frames of an 8-byte header
/// (stream type, 3 zero bytes, big-endian length) and the payload.
fn demultiplex(stream: &[u8]) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut rest = stream;
    while rest.len() >= 8 {
        let len = u32::from_be_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let payload = &rest[8..(8 + len).min(rest.len())];
        match rest[0] {
            2 => err.extend_from_slice(payload),
            _ => out.extend_from_slice(payload),
        }
        rest = &rest[(8 + len).min(rest.len())..];
    }
    (
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_container_state_is_kept_not_refused() {
        let listed: Vec<ContainerSummary> = serde_json::from_str(
            r#"[{"Id":"a","Labels":{"calor.rental":"x"},"State":"stopped","Ports":null},
                {"Id":"b","State":"running","Ports":[{"PrivatePort":22,"PublicPort":40001}]}]"#,
        )
        .unwrap();
        assert_eq!(listed[0].state, "stopped");
        assert_eq!(
            listed[1].ports.as_ref().unwrap()[0].public_port,
            Some(40001)
        );
    }

    #[test]
    fn exec_output_is_split_by_stream() {
        let mut frames = vec![1, 0, 0, 0, 0, 0, 0, 3];
        frames.extend_from_slice(b"out");
        frames.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 4]);
        frames.extend_from_slice(b"err!");
        assert_eq!(demultiplex(&frames), ("out".into(), "err!".into()));
    }

    #[test]
    fn filters_are_query_safe() {
        assert_eq!(
            label_filter(&[("calor.cluster", "a b")]),
            "%7B%22label%22%3A%5B%22calor.cluster%3Da%20b%22%5D%7D"
        );
    }
}
