//! Instances through the Docker Engine API (Docker or Podman): one container per rental, named
//! and labelled after the rental, its cluster and node, so that every step can first look at
//! what exists; beside it the rental's own network and its sized `/workspace` filesystem.
//!
//! Isolation (docs/provisioner.md, "Isolation"): each instance gets its node's share of memory
//! (no swap), CPU (a quota, and a cpuset/NUMA node where the operator gives one), `/dev/shm`
//! and disk, the pids and ulimit caps, every capability dropped except what sshd and a root
//! shell need, `no-new-privileges`, and a bridge network of its own that cannot reach any
//! other tenant's.
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use calor_client::Pubkey;
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;

use crate::engine::{AttachedExec, ContainerDetails, Engine, EngineError, EngineVersion};
use crate::workspace::{WorkspaceError, Workspaces};

pub const LABEL_RENTAL: &str = "calor.rental";
pub const LABEL_NODE: &str = "calor.node";
pub const LABEL_PROVIDER: &str = "calor.provider";
/// The provisioner deployment that owns the instance: only it may remove or drain it.
pub const LABEL_CLUSTER: &str = "calor.cluster";
/// The GPU UUIDs the instance was given, comma separated.
pub const LABEL_GPUS: &str = "calor.gpus";
const SSH_PORT: &str = "22/tcp";
/// The instance image's entrypoint installs this for root (see tools/engine/instance-entrypoint.sh).
pub const SSH_KEY_ENV: &str = "CALOR_SSH_AUTHORIZED_KEY";
/// The instance image's entrypoint serves JupyterLab on [`JUPYTER_PORT`] with this token.
pub const JUPYTER_TOKEN_ENV: &str = "CALOR_JUPYTER_TOKEN";
pub const JUPYTER_PORT: u16 = 8888;
/// The shell a terminal session runs: it records its process id (in the container's own pid
/// namespace) so that closing the session can hang it up; a TTY exec outlives its attached
/// connection otherwise.
const SHELL: [&str; 3] = [
    "/bin/sh",
    "-c",
    "echo $$ > \"/run/calor-terminal-$CALOR_TERMINAL_ID.pid\" && exec /bin/bash -l",
];
/// What sshd (privilege separation: setuid, setgid, chroot; port 22) and a root shell that
/// installs packages (chown, file modes, signals) need; everything else is dropped.
pub const CAPABILITIES: [&str; 10] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "AUDIT_WRITE",
];
const MIB: u64 = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error("image {0} is not in the engine (no registry pulls are made)")]
    ImageMissing(String),
    #[error("the engine refused the instance's specification: {0}")]
    InvalidSpec(String),
    #[error("the engine could not start the instance: {0}")]
    StartFailed(String),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error("the instance does not see exactly its GPUs: expected {expected:?}, it sees {seen:?}{detail}")]
    GpuMismatch {
        expected: Vec<String>,
        seen: Vec<String>,
        detail: String,
    },
}

impl RuntimeError {
    /// Failures that retrying cannot fix: the rental is failed and refunded. A failed start
    /// or an engine error is retried with back-off (the engine answers 500 while a container
    /// is between states) until the provisioning timeout.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            Self::ImageMissing(_) | Self::InvalidSpec(_) | Self::GpuMismatch { .. }
        )
    }

    /// The engine itself did not answer.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, Self::Engine(EngineError::Unreachable { .. }))
    }
}

/// How GPUs reach an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GpuAttach {
    /// A Docker `DeviceRequest` for the `nvidia` driver by UUID: Docker Engine with the NVIDIA
    /// Container Toolkit.
    DeviceRequest,
    /// Container Device Interface names `nvidia.com/gpu=<uuid>` (Podman with a CDI spec from
    /// `nvidia-ctk cdi generate`).
    Cdi,
    /// No GPUs attached: hosts without GPUs (development, CI) only.
    None,
}

impl std::str::FromStr for GpuAttach {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "device-request" => Ok(Self::DeviceRequest),
            "cdi" => Ok(Self::Cdi),
            "none" => Ok(Self::None),
            other => Err(format!(
                "gpu_attach must be \"device-request\", \"cdi\" or \"none\", not {other:?}"
            )),
        }
    }
}

/// Per-tenant process limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub nofile: (i64, i64),
    pub nproc: (i64, i64),
    pub pids: i64,
}

/// A node's share of the host, given to the instance that runs on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub memory_mib: u64,
    pub cpus: f64,
    /// CPUs the instance may run on (`0-15`), e.g. those near its GPUs.
    pub cpuset: Option<String>,
    /// NUMA memory nodes (`0`).
    pub mems: Option<String>,
    pub shm_mib: u64,
    pub workspace_mib: u64,
}

/// What a rental's instance must be.
#[derive(Debug, Clone)]
pub struct InstanceSpec {
    pub rental: Pubkey,
    pub node: Pubkey,
    pub provider: Pubkey,
    pub cluster: String,
    pub image: String,
    /// The renter's key line for root; `None`: a key-less rental (web terminal only).
    pub ssh_public_key: Option<String>,
    pub gpu_uuids: Vec<String>,
    pub gpu_attach: GpuAttach,
    pub ssh_bind_ip: String,
    /// Host port SSH is published on.
    pub ssh_port: u16,
    /// Container ports the renter declared at open; each is published on a host port the
    /// engine chooses.
    pub forwarded_ports: Vec<u16>,
    /// The rental's Jupyter secret (see `Controller::jupyter_token`).
    pub jupyter_token: String,
    pub share: Share,
    pub limits: Limits,
}

/// A rental's instance as the engine has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub rental: Pubkey,
    pub node: Option<Pubkey>,
    pub cluster: Option<String>,
    pub gpus: Vec<String>,
    pub container_id: String,
    /// The engine's word for its state (`running`, `exited`, Podman's `stopped`, …).
    pub state: String,
    pub running: bool,
    /// Published TCP ports: (container port, host port), SSH included.
    pub published: Vec<(u16, u16)>,
}

impl Instance {
    /// The host port SSH is published on.
    pub fn ssh_port(&self) -> Option<u16> {
        self.host_port(22)
    }

    /// The host port `container_port` is published on.
    pub fn host_port(&self, container_port: u16) -> Option<u16> {
        self.published
            .iter()
            .find(|(inside, _)| *inside == container_port)
            .map(|(_, outside)| *outside)
    }
}

pub fn container_name(rental: &Pubkey) -> String {
    format!("calor-{rental}")
}

pub fn volume_name(rental: &Pubkey) -> String {
    format!("calor-ws-{rental}")
}

pub fn network_name(rental: &Pubkey) -> String {
    format!("calor-net-{rental}")
}

fn labels(spec: &InstanceSpec) -> HashMap<&'static str, String> {
    HashMap::from([
        (LABEL_RENTAL, spec.rental.to_string()),
        (LABEL_NODE, spec.node.to_string()),
        (LABEL_PROVIDER, spec.provider.to_string()),
        (LABEL_CLUSTER, spec.cluster.clone()),
        (LABEL_GPUS, spec.gpu_uuids.join(",")),
    ])
}

/// The container the engine is asked to create for `spec`.
pub fn container_body(spec: &InstanceSpec) -> Value {
    let mut env: Vec<String> = spec
        .ssh_public_key
        .iter()
        .map(|key| format!("{SSH_KEY_ENV}={key}"))
        .collect();
    env.push(format!("{JUPYTER_TOKEN_ENV}={}", spec.jupyter_token));
    let mut exposed = json!({ SSH_PORT: {} });
    let mut bindings = json!({ SSH_PORT: [{ "HostIp": spec.ssh_bind_ip, "HostPort": spec.ssh_port.to_string() }] });
    // Jupyter and the renter's ports: the engine chooses free host ports ("" = any), read
    // back from the instance once it runs.
    for port in std::iter::once(JUPYTER_PORT).chain(spec.forwarded_ports.iter().copied()) {
        let key = format!("{port}/tcp");
        exposed[&key] = json!({});
        bindings[&key] = json!([{ "HostIp": spec.ssh_bind_ip, "HostPort": "" }]);
    }
    if !spec.gpu_uuids.is_empty() && spec.gpu_attach != GpuAttach::None {
        env.push(format!(
            "NVIDIA_VISIBLE_DEVICES={}",
            spec.gpu_uuids.join(",")
        ));
    }
    let memory = spec.share.memory_mib * MIB;
    let mut host = json!({
        "Binds": [format!("{}:/workspace", volume_name(&spec.rental))],
        "PortBindings": bindings,
        "NetworkMode": network_name(&spec.rental),
        "Memory": memory,
        // equal to Memory: no swap, so a memory hog meets the OOM killer, not the host's disk
        "MemorySwap": memory,
        "NanoCpus": (spec.share.cpus * 1e9).round() as i64,
        "ShmSize": spec.share.shm_mib * MIB,
        "PidsLimit": spec.limits.pids,
        "Ulimits": [
            { "Name": "nofile", "Soft": spec.limits.nofile.0, "Hard": spec.limits.nofile.1 },
            { "Name": "nproc", "Soft": spec.limits.nproc.0, "Hard": spec.limits.nproc.1 },
        ],
        "CapDrop": ["ALL"],
        "CapAdd": CAPABILITIES,
        "SecurityOpt": ["no-new-privileges"],
        "Init": true,
    });
    if let Some(cpuset) = &spec.share.cpuset {
        host["CpusetCpus"] = json!(cpuset);
    }
    if let Some(mems) = &spec.share.mems {
        host["CpusetMems"] = json!(mems);
    }
    if !spec.gpu_uuids.is_empty() {
        match spec.gpu_attach {
            GpuAttach::DeviceRequest => {
                host["DeviceRequests"] = json!([{
                    "Driver": "nvidia",
                    "DeviceIDs": spec.gpu_uuids,
                    "Capabilities": [["gpu"]],
                }]);
            }
            GpuAttach::Cdi => {
                let devices: Vec<Value> = spec
                    .gpu_uuids
                    .iter()
                    .map(|uuid| {
                        json!({
                            "PathOnHost": format!("nvidia.com/gpu={uuid}"),
                            "PathInContainer": "",
                            "CgroupPermissions": "rwm",
                        })
                    })
                    .collect();
                host["Devices"] = json!(devices);
            }
            GpuAttach::None => {}
        }
    }
    json!({
        "Image": spec.image,
        "Labels": labels(spec),
        "Env": env,
        "ExposedPorts": exposed,
        "HostConfig": host,
    })
}

/// The rental's network: a bridge of its own. Podman's netavark isolates networks created with
/// `isolate`; Docker isolates bridge networks from each other by default.
pub fn network_body(spec: &InstanceSpec, podman: bool) -> Value {
    let options = if podman {
        json!({ "isolate": "true" })
    } else {
        json!({})
    };
    json!({
        "Name": network_name(&spec.rental),
        "Driver": "bridge",
        "CheckDuplicate": true,
        "Labels": labels(spec),
        "Options": options,
    })
}

/// The rental's `/workspace`: its sized filesystem image, mounted through a loop device.
pub fn volume_body(spec: &InstanceSpec, image: &std::path::Path) -> Value {
    json!({
        "Name": volume_name(&spec.rental),
        "Driver": "local",
        "DriverOpts": { "type": "ext4", "device": image.display().to_string(), "o": "loop" },
        "Labels": labels(spec),
    })
}

fn instance_of(rental: Pubkey, details: &ContainerDetails) -> Instance {
    let labels = details.config.labels.clone().unwrap_or_default();
    let published: Vec<(u16, u16)> = details
        .network
        .ports
        .iter()
        .flatten()
        .filter_map(|(key, bindings)| {
            let inside = key.strip_suffix("/tcp")?.parse().ok()?;
            let outside = bindings
                .iter()
                .flatten()
                .find_map(|b| b.host_port.parse().ok())?;
            Some((inside, outside))
        })
        .collect();
    Instance {
        rental,
        node: labels.get(LABEL_NODE).and_then(|n| n.parse().ok()),
        cluster: labels.get(LABEL_CLUSTER).cloned(),
        gpus: gpus_label(labels.get(LABEL_GPUS)),
        container_id: details.id.clone(),
        state: details.state.status.clone(),
        running: details.state.running,
        published,
    }
}

fn gpus_label(label: Option<&String>) -> Vec<String> {
    label
        .map(|g| {
            g.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// A container engine that runs rentals' instances.
pub trait Runtime: Send + Sync {
    /// Every instance of `cluster` (labelled with it), running or not.
    fn list(
        &self,
        cluster: &str,
    ) -> impl std::future::Future<Output = Result<Vec<Instance>, RuntimeError>> + Send;
    /// The rental's instance as it is now.
    fn inspect(
        &self,
        rental: &Pubkey,
    ) -> impl std::future::Future<Output = Result<Option<Instance>, RuntimeError>> + Send;
    /// Host ports that any container on the engine publishes, ours or not. A port can be
    /// published without a listener (Docker without its userland proxy, or a container whose
    /// monitor died): its forwarding rule would shadow an instance given the same port.
    fn published_host_ports(
        &self,
    ) -> impl std::future::Future<Output = Result<HashSet<u16>, RuntimeError>> + Send;
    /// Makes the instance exist and run: network, workspace, container, start.
    fn ensure(
        &self,
        spec: &InstanceSpec,
    ) -> impl std::future::Future<Output = Result<Instance, RuntimeError>> + Send;
    /// Checks inside the running instance that it sees exactly `expected` GPUs.
    fn verify_gpus(
        &self,
        rental: &Pubkey,
        expected: &[String],
    ) -> impl std::future::Future<Output = Result<(), RuntimeError>> + Send;
    /// Stops and removes the instance, its network, volume and workspace image; nothing to do
    /// is not an error.
    fn remove(
        &self,
        rental: &Pubkey,
    ) -> impl std::future::Future<Output = Result<(), RuntimeError>> + Send;
    /// Rentals of `cluster` that still have a volume, network or workspace image.
    fn leftovers(
        &self,
        cluster: &str,
    ) -> impl std::future::Future<Output = Result<HashSet<Pubkey>, RuntimeError>> + Send;
    /// Whether the engine answers.
    fn ping(&self) -> impl std::future::Future<Output = Result<(), RuntimeError>> + Send;
    /// Starts a login shell with a TTY in the rental's running instance, attached; `session`
    /// names it for [`hang_up`](Self::hang_up).
    fn open_shell(
        &self,
        rental: &Pubkey,
        session: &str,
    ) -> impl std::future::Future<Output = Result<AttachedExec, RuntimeError>> + Send;
    fn resize_shell(
        &self,
        exec: &str,
        cols: u16,
        rows: u16,
    ) -> impl std::future::Future<Output = Result<(), RuntimeError>> + Send;
    /// Hangs up a session's shell (and its jobs), as closing a terminal does.
    fn hang_up(
        &self,
        rental: &Pubkey,
        session: &str,
    ) -> impl std::future::Future<Output = Result<(), RuntimeError>> + Send;
    /// Hangs up every terminal shell in the instance: at startup, those of a provisioner that
    /// crashed, whose sessions are gone.
    fn hang_up_all(
        &self,
        rental: &Pubkey,
    ) -> impl std::future::Future<Output = Result<(), RuntimeError>> + Send;
}

/// The Docker Engine API, as served by Docker or Podman.
#[derive(Clone)]
pub struct DockerRuntime {
    engine: Engine,
    version: EngineVersion,
    workspaces: Workspaces,
}

impl DockerRuntime {
    pub async fn connect(endpoint: &str, workspaces: Workspaces) -> Result<Self, RuntimeError> {
        let engine = Engine::connect(endpoint)?;
        let version = engine.version().await?;
        Ok(Self {
            engine,
            version,
            workspaces,
        })
    }

    pub fn version(&self) -> &EngineVersion {
        &self.version
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Sends SIGHUP to the shells whose pid files match `/run/calor-terminal-<pattern>.pid`.
    async fn hang_up_matching(&self, rental: &Pubkey, pattern: &str) -> Result<(), RuntimeError> {
        let script = format!(
            "for f in /run/calor-terminal-{pattern}.pid; do [ -f \"$f\" ] || continue; \
             kill -HUP \"$(cat \"$f\")\" 2>/dev/null; rm -f \"$f\"; done"
        );
        self.engine
            .exec(&container_name(rental), &["/bin/sh", "-c", &script])
            .await?;
        Ok(())
    }

    async fn create(&self, spec: &InstanceSpec) -> Result<(), RuntimeError> {
        // Docker answers 409; Podman answers 500 "... already exists" for networks.
        let exists =
            |e: &EngineError| e.status() == Some(409) || e.message().contains("already exists");
        match self
            .engine
            .create_network(&network_body(spec, self.version.is_podman()))
            .await
        {
            Ok(()) => {}
            Err(e) if exists(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let image = self
            .workspaces
            .ensure(&spec.rental, spec.share.workspace_mib)?;
        match self.engine.create_volume(&volume_body(spec, &image)).await {
            Ok(()) => {}
            Err(e) if exists(&e) => {} // kept from an earlier start of this rental
            Err(e) => return Err(e.into()),
        }
        match self
            .engine
            .create_container(&container_name(&spec.rental), &container_body(spec))
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if exists(&e) => Ok(()), // created by a run that crashed before start
            Err(e) if e.status() == Some(404) => {
                Err(RuntimeError::ImageMissing(spec.image.clone()))
            }
            Err(e) if e.status() == Some(400) => {
                Err(RuntimeError::InvalidSpec(e.message().to_string()))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Runtime for DockerRuntime {
    async fn list(&self, cluster: &str) -> Result<Vec<Instance>, RuntimeError> {
        let mut instances = Vec::new();
        for summary in self
            .engine
            .list_containers(&[(LABEL_CLUSTER, cluster)])
            .await?
        {
            let labels = summary.labels.unwrap_or_default();
            let Some(rental) = labels.get(LABEL_RENTAL).and_then(|r| r.parse().ok()) else {
                continue;
            };
            let published: Vec<(u16, u16)> = summary
                .ports
                .unwrap_or_default()
                .iter()
                .filter_map(|p| Some((p.private_port, p.public_port?)))
                .collect();
            instances.push(Instance {
                rental,
                node: labels.get(LABEL_NODE).and_then(|n| n.parse().ok()),
                cluster: labels.get(LABEL_CLUSTER).cloned(),
                gpus: gpus_label(labels.get(LABEL_GPUS)),
                container_id: summary.id,
                running: summary.state == "running",
                state: summary.state,
                published,
            });
        }
        Ok(instances)
    }

    async fn published_host_ports(&self) -> Result<HashSet<u16>, RuntimeError> {
        Ok(self
            .engine
            .list_containers(&[])
            .await?
            .into_iter()
            .flat_map(|c| c.ports.unwrap_or_default())
            .filter_map(|p| p.public_port)
            .collect())
    }

    async fn inspect(&self, rental: &Pubkey) -> Result<Option<Instance>, RuntimeError> {
        Ok(self
            .engine
            .inspect_container(&container_name(rental))
            .await?
            .map(|details| instance_of(*rental, &details)))
    }

    async fn ensure(&self, spec: &InstanceSpec) -> Result<Instance, RuntimeError> {
        match self.inspect(&spec.rental).await? {
            Some(instance) if instance.running => return Ok(instance),
            Some(_) => {}
            None => self.create(spec).await?,
        }
        let name = container_name(&spec.rental);
        match self.engine.start_container(&name).await {
            Ok(()) => {}
            Err(e) if e.status() == Some(304) => {} // already started
            Err(e @ EngineError::Api { .. }) => {
                // A port another process took since it was chosen: drop the container (not
                // its workspace) so the next attempt is created with another port.
                if e.message().contains("address already in use") {
                    let _ = self.engine.remove_container(&name).await;
                }
                return Err(RuntimeError::StartFailed(e.to_string()));
            }
            Err(e) => return Err(e.into()),
        }
        // Read back for the port the engine published.
        self.inspect(&spec.rental)
            .await?
            .ok_or_else(|| RuntimeError::StartFailed("the container vanished after start".into()))
    }

    async fn verify_gpus(&self, rental: &Pubkey, expected: &[String]) -> Result<(), RuntimeError> {
        let query = ["nvidia-smi", "--query-gpu=uuid", "--format=csv,noheader"];
        let (seen, detail) = match self.engine.exec(&container_name(rental), &query).await {
            Ok(out) if out.exit_code == 0 => (
                out.stdout
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
                String::new(),
            ),
            Ok(out) => (
                Vec::new(),
                format!(
                    " (nvidia-smi exited {}: {})",
                    out.exit_code,
                    out.stderr.trim()
                ),
            ),
            // exec of a missing binary: Docker answers the start, Podman refuses the create
            Err(EngineError::Api { message, .. }) => (
                Vec::new(),
                format!(" (nvidia-smi could not run: {message})"),
            ),
            Err(e) => return Err(e.into()),
        };
        let (want, got): (HashSet<&String>, HashSet<&String>) =
            (expected.iter().collect(), seen.iter().collect());
        if want == got && seen.len() == expected.len() {
            return Ok(());
        }
        Err(RuntimeError::GpuMismatch {
            expected: expected.to_vec(),
            seen,
            detail,
        })
    }

    async fn remove(&self, rental: &Pubkey) -> Result<(), RuntimeError> {
        let name = container_name(rental);
        let gone = |e: &EngineError| matches!(e.status(), Some(304 | 404));
        match self.engine.stop_container(&name, 5).await {
            Ok(()) => {}
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
        match self.engine.remove_container(&name).await {
            Ok(()) => {}
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
        // The tenant's /workspace goes with the rental: the next tenant starts from nothing.
        match self.engine.remove_volume(&volume_name(rental)).await {
            Ok(()) => {}
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
        self.workspaces.remove(rental)?;
        match self.engine.remove_network(&network_name(rental)).await {
            Ok(()) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn leftovers(&self, cluster: &str) -> Result<HashSet<Pubkey>, RuntimeError> {
        let filter = [(LABEL_CLUSTER, cluster)];
        let rental_of = |labels: Option<HashMap<String, String>>| {
            labels.and_then(|l| l.get(LABEL_RENTAL).and_then(|r| r.parse::<Pubkey>().ok()))
        };
        let mut rentals: HashSet<Pubkey> = self
            .engine
            .list_volumes(&filter)
            .await?
            .into_iter()
            .filter_map(|v| rental_of(v.labels))
            .collect();
        rentals.extend(
            self.engine
                .list_networks(&filter)
                .await?
                .into_iter()
                .filter_map(|n| rental_of(n.labels)),
        );
        rentals.extend(self.workspaces.list());
        Ok(rentals)
    }

    async fn ping(&self) -> Result<(), RuntimeError> {
        Ok(self.engine.ping().await?)
    }

    async fn open_shell(
        &self,
        rental: &Pubkey,
        session: &str,
    ) -> Result<AttachedExec, RuntimeError> {
        let env = [
            format!("CALOR_TERMINAL_ID={session}"),
            "TERM=xterm-256color".to_string(),
            "HOME=/root".to_string(),
        ];
        Ok(self
            .engine
            .exec_attached(&container_name(rental), &SHELL, &env, "/workspace")
            .await?)
    }

    async fn resize_shell(&self, exec: &str, cols: u16, rows: u16) -> Result<(), RuntimeError> {
        Ok(self.engine.resize_exec(exec, cols, rows).await?)
    }

    async fn hang_up(&self, rental: &Pubkey, session: &str) -> Result<(), RuntimeError> {
        self.hang_up_matching(rental, session).await
    }

    async fn hang_up_all(&self, rental: &Pubkey) -> Result<(), RuntimeError> {
        self.hang_up_matching(rental, "*").await
    }
}

/// Where to dial an instance's published port from this host: the bind address itself, or
/// loopback when it binds every address (the public host may be a NAT address this host
/// cannot reach).
pub fn probe_host(bind_ip: &str) -> String {
    match bind_ip {
        "0.0.0.0" | "" => "127.0.0.1".into(),
        "::" | "[::]" => "::1".into(),
        ip => ip.trim_start_matches('[').trim_end_matches(']').into(),
    }
}

/// Whether an SSH server answers at `host:port`: the connection is accepted and the server
/// sends its `SSH-2.0-` identification (an accepted connection alone can be a port proxy).
pub async fn ssh_ready(host: &str, port: u16, timeout: Duration) -> bool {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect((host, port)).await.ok()?;
        let mut banner = [0u8; 8];
        stream.read_exact(&mut banner).await.ok()?;
        Some(banner.starts_with(b"SSH-2.0-"))
    };
    matches!(tokio::time::timeout(timeout, probe).await, Ok(Some(true)))
}

/// The first port of `range` that no instance uses and that can be bound on `bind_ip` now.
pub fn free_ssh_port(range: (u16, u16), bind_ip: &str, in_use: &HashSet<u16>) -> Option<u16> {
    (range.0..=range.1).find(|port| {
        !in_use.contains(port) && std::net::TcpListener::bind((probe_host(bind_ip), *port)).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> InstanceSpec {
        InstanceSpec {
            rental: Pubkey::new_unique(),
            node: Pubkey::new_unique(),
            provider: Pubkey::new_unique(),
            cluster: "cluster-a".into(),
            image: "localhost/calor-instance:x".into(),
            ssh_public_key: Some("ssh-ed25519 AAAA renter".into()),
            gpu_uuids: vec!["GPU-aaaa".into(), "GPU-bbbb".into()],
            gpu_attach: GpuAttach::DeviceRequest,
            ssh_bind_ip: "0.0.0.0".into(),
            ssh_port: 40_001,
            forwarded_ports: vec![8000, 6006],
            jupyter_token: "jupyter-secret".into(),
            share: Share {
                memory_mib: 2048,
                cpus: 1.5,
                cpuset: Some("0-3".into()),
                mems: Some("0".into()),
                shm_mib: 256,
                workspace_mib: 1024,
            },
            limits: Limits {
                nofile: (1024, 20000),
                nproc: (1024, 1024),
                pids: 4096,
            },
        }
    }

    #[test]
    fn the_container_spec_carries_gpus_key_share_isolation_and_labels() {
        let spec = spec();
        let body = container_body(&spec);
        let host = &body["HostConfig"];
        let gpus = &host["DeviceRequests"][0];
        assert_eq!(gpus["Driver"], "nvidia");
        assert_eq!(gpus["DeviceIDs"], json!(["GPU-aaaa", "GPU-bbbb"]));
        assert_eq!(gpus["Capabilities"], json!([["gpu"]]));
        assert_eq!(
            host["Binds"],
            json!([format!("calor-ws-{}:/workspace", spec.rental)])
        );
        assert_eq!(host["NetworkMode"], network_name(&spec.rental));
        assert_eq!(host["PortBindings"]["22/tcp"][0]["HostPort"], "40001");
        assert_eq!(host["Memory"], 2048 * MIB);
        assert_eq!(host["MemorySwap"], 2048 * MIB);
        assert_eq!(host["NanoCpus"], 1_500_000_000i64);
        assert_eq!(host["CpusetCpus"], "0-3");
        assert_eq!(host["CpusetMems"], "0");
        assert_eq!(host["ShmSize"], 256 * MIB);
        assert_eq!(host["CapDrop"], json!(["ALL"]));
        assert_eq!(host["SecurityOpt"], json!(["no-new-privileges"]));
        assert_eq!(host["Ulimits"][0]["Hard"], 20000);
        assert!(body["Env"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("{SSH_KEY_ENV}=ssh-ed25519 AAAA renter"))));
        assert_eq!(body["Labels"][LABEL_CLUSTER], "cluster-a");
        assert_eq!(body["Labels"][LABEL_GPUS], "GPU-aaaa,GPU-bbbb");
        // Jupyter and the declared ports on host ports the engine chooses, on the bind address
        for port in ["8888/tcp", "8000/tcp", "6006/tcp"] {
            assert_eq!(body["ExposedPorts"][port], json!({}), "{port}");
            assert_eq!(host["PortBindings"][port][0]["HostPort"], "", "{port}");
            assert_eq!(host["PortBindings"][port][0]["HostIp"], "0.0.0.0", "{port}");
        }
        assert_eq!(host["PortBindings"].as_object().unwrap().len(), 4);
        assert!(body["Env"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("{JUPYTER_TOKEN_ENV}=jupyter-secret"))));
        // nothing of the host's: not privileged, no host namespaces, no engine socket, no
        // mount but the rental's own workspace
        for absent in [
            "Privileged",
            "PidMode",
            "IpcMode",
            "UTSMode",
            "UsernsMode",
            "Mounts",
        ] {
            assert!(host.get(absent).is_none(), "{absent}");
        }
        assert!(!body.to_string().contains(".sock"));

        let cdi = container_body(&InstanceSpec {
            gpu_attach: GpuAttach::Cdi,
            ..spec.clone()
        });
        assert!(cdi["HostConfig"].get("DeviceRequests").is_none());
        assert_eq!(
            cdi["HostConfig"]["Devices"][1]["PathOnHost"],
            "nvidia.com/gpu=GPU-bbbb"
        );
        let none = container_body(&InstanceSpec {
            gpu_attach: GpuAttach::None,
            ..spec
        });
        assert!(none["HostConfig"].get("DeviceRequests").is_none());
        assert!(none["HostConfig"].get("Devices").is_none());
    }

    #[test]
    fn networks_are_isolated_on_podman_and_workspaces_are_loop_mounted() {
        let spec = spec();
        assert_eq!(network_body(&spec, true)["Options"]["isolate"], "true");
        assert_eq!(network_body(&spec, false)["Options"], json!({}));
        let volume = volume_body(&spec, std::path::Path::new("/w/x.ext4"));
        assert_eq!(volume["DriverOpts"]["device"], "/w/x.ext4");
        assert_eq!(volume["DriverOpts"]["o"], "loop");
    }

    #[test]
    fn probes_dial_the_bind_address_and_ports_come_from_the_range() {
        assert_eq!(probe_host("0.0.0.0"), "127.0.0.1");
        assert_eq!(probe_host("10.0.0.5"), "10.0.0.5");
        assert_eq!(probe_host("::"), "::1");
        let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = taken.local_addr().unwrap().port();
        let next =
            free_ssh_port((port, port.saturating_add(5)), "127.0.0.1", &HashSet::new()).unwrap();
        assert_ne!(next, port, "a bound port is skipped");
        let in_use = HashSet::from([next]);
        assert_ne!(
            free_ssh_port((port, port.saturating_add(5)), "127.0.0.1", &in_use),
            Some(next)
        );
    }
}
