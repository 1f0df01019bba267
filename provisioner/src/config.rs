//! Settings from a TOML file, the environment (`CALOR_*`, `DOCKER_HOST`) and flags, in that
//! order of precedence from lowest to highest, over built-in defaults for a local cluster.
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

use crate::runtime::{GpuAttach, Share};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("{name} = {value} is out of range: {rule}")]
    Interval {
        name: &'static str,
        value: String,
        rule: String,
    },
}

/// Floors under which a period would flood the chain, the RPC node or the engine.
pub const MIN_HEARTBEAT_SECS: u64 = 5;
pub const MIN_RECONCILE_MS: u64 = 50;
pub const MIN_RESYNC_SECS: u64 = 1;
pub const MIN_WS_IDLE_TIMEOUT_SECS: u64 = 2;

/// One node this cluster serves, and its share of the host. Everything but `index` falls back
/// to the cluster-wide setting of the same name.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSettings {
    pub index: u32,
    /// The GPUs (UUIDs) this node owns; by default they are handed out once and remembered
    /// in the state directory.
    pub gpus: Option<Vec<String>>,
    /// CPUs its instance may run on (e.g. those near its GPUs: `0-15`).
    pub cpuset: Option<String>,
    /// NUMA memory nodes (`0`).
    pub mems: Option<String>,
    pub memory_mib: Option<u64>,
    pub cpus: Option<f64>,
    pub shm_mib: Option<u64>,
    pub workspace_mib: Option<u64>,
    /// `false` keeps the node offline on-chain (maintenance); its tenant, if any, runs on.
    pub enabled: Option<bool>,
}

/// A node with every setting resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePlan {
    pub index: u32,
    pub gpus: Option<Vec<String>>,
    pub share: Share,
    pub enabled: bool,
}

/// Where the GPU inventory comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InventorySource {
    /// The NVIDIA driver, through NVML.
    Nvml,
    /// A declared file: for hosts without a driver (development, CI). Nothing is measured.
    Declared(PathBuf),
}

/// Every setting; each may come from the file, the environment or a flag.
#[derive(Debug, Default, Clone, Parser, Deserialize)]
#[command(
    name = "calor-provisioner",
    version,
    about = "Runs Calor rentals as GPU instances"
)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// TOML file with any of these settings (flags and environment win over it).
    #[arg(long, env = "CALOR_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "CALOR_RPC_URL")]
    pub rpc_url: Option<String>,
    /// Websocket endpoint of the chain (`programSubscribe`).
    #[arg(long, env = "CALOR_WS_URL")]
    pub ws_url: Option<String>,
    /// Keypair file of the provider's authority (signs claims, starts, heartbeats).
    #[arg(long, env = "CALOR_OPERATOR_KEYPAIR")]
    pub operator_keypair: Option<PathBuf>,
    /// The region this cluster is in (must match its nodes' region on-chain).
    #[arg(long, env = "CALOR_REGION")]
    pub region: Option<u16>,
    /// Indexes of the provider's nodes this cluster serves, comma separated.
    #[arg(long, env = "CALOR_NODES", value_delimiter = ',')]
    pub nodes: Option<Vec<u32>>,
    /// Docker Engine API endpoint (`unix:///path` or `tcp://host:port`).
    #[arg(long, env = "DOCKER_HOST")]
    pub docker_host: Option<String>,
    /// Image every instance runs (must exist in the engine: no pulls are made).
    #[arg(long, env = "CALOR_INSTANCE_IMAGE")]
    pub instance_image: Option<String>,
    /// `nvml`, or `declared` with --gpu-inventory-file.
    #[arg(long, env = "CALOR_GPU_INVENTORY")]
    pub gpu_inventory: Option<String>,
    /// TOML file declaring the GPUs (`[[gpu]] uuid, name, memory_mib`).
    #[arg(long, env = "CALOR_GPU_INVENTORY_FILE")]
    pub gpu_inventory_file: Option<PathBuf>,
    /// How GPUs reach instances: `device-request` (Docker + NVIDIA Container Toolkit), `cdi`
    /// (Podman + a CDI spec) or `none` (hosts without GPUs).
    #[arg(long, env = "CALOR_GPU_ATTACH")]
    pub gpu_attach: Option<String>,
    /// Names this deployment on the instances it creates; only it touches them.
    #[arg(long, env = "CALOR_CLUSTER_ID")]
    pub cluster_id: Option<String>,
    /// Node locks, GPU ownership and workspace images live here (one per host).
    #[arg(long, env = "CALOR_STATE_DIR")]
    pub state_dir: Option<PathBuf>,
    /// Per-instance memory (MiB), without swap.
    #[arg(long, env = "CALOR_MEMORY_MIB")]
    pub memory_mib: Option<u64>,
    /// Per-instance CPU quota, in CPUs.
    #[arg(long, env = "CALOR_CPUS")]
    pub cpus: Option<f64>,
    /// Per-instance /dev/shm (MiB).
    #[arg(long, env = "CALOR_SHM_MIB")]
    pub shm_mib: Option<u64>,
    /// Per-instance /workspace filesystem (MiB), reserved on the host's disk.
    #[arg(long, env = "CALOR_WORKSPACE_MIB")]
    pub workspace_mib: Option<u64>,
    /// Host ports SSH is published on, FIRST-LAST.
    #[arg(long, env = "CALOR_SSH_PORTS")]
    pub ssh_ports: Option<String>,
    /// A websocket with no slot notification for this long is taken as stalled and reopened.
    #[arg(long, env = "CALOR_WS_IDLE_TIMEOUT_SECS")]
    pub ws_idle_timeout_secs: Option<u64>,
    /// Failed restarts of a running instance after which its rental is completed.
    #[arg(long, env = "CALOR_MAX_RESTARTS")]
    pub max_restarts: Option<u32>,
    /// How often leftover volumes, networks and workspace images are looked for.
    #[arg(long, env = "CALOR_SWEEP_SECS")]
    pub sweep_secs: Option<u64>,
    /// `[[node]]` tables (file only): per-node GPUs, cpuset, NUMA node and share.
    #[arg(skip)]
    #[serde(rename = "node")]
    pub node_tables: Option<Vec<NodeSettings>>,
    /// Host address instances' SSH ports are published on.
    #[arg(long, env = "CALOR_SSH_BIND_IP")]
    pub ssh_bind_ip: Option<String>,
    /// Host name renters connect to (reported by the status API).
    #[arg(long, env = "CALOR_PUBLIC_HOST")]
    pub public_host: Option<String>,
    /// Address of the HTTP server (/metrics, /healthz, /rentals/<address>, the terminal).
    #[arg(long, env = "CALOR_LISTEN")]
    pub listen: Option<String>,
    /// The URL renters reach the HTTP server at (access messages name it); default
    /// `http://<public_host>:<listen port>`.
    #[arg(long, env = "CALOR_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Browser origins (besides the public URL) whose pages may open terminals and Jupyter,
    /// comma separated: the web app's.
    #[arg(long, env = "CALOR_ALLOWED_ORIGINS")]
    pub allowed_origins: Option<String>,
    #[arg(long, env = "CALOR_HEARTBEAT_SECS")]
    pub heartbeat_secs: Option<u64>,
    /// Full `getProgramAccounts` resync interval, on top of the websocket.
    #[arg(long, env = "CALOR_RESYNC_SECS")]
    pub resync_secs: Option<u64>,
    /// Reconcile at least this often even when nothing is notified.
    #[arg(long, env = "CALOR_RECONCILE_MS")]
    pub reconcile_ms: Option<u64>,
    /// How long an unpinned rental waits for a nearer region before this one takes it,
    /// per place in the distance ranking.
    #[arg(long, env = "CALOR_FALLBACK_DELAY_SECS")]
    pub fallback_delay_secs: Option<u64>,
    /// Priority fee, in micro-lamports per compute unit.
    #[arg(long, env = "CALOR_COMPUTE_UNIT_PRICE")]
    pub compute_unit_price: Option<u64>,
    /// An instance not answering SSH after this long is failed (full refund).
    #[arg(long, env = "CALOR_PROVISION_TIMEOUT_SECS")]
    pub provision_timeout_secs: Option<u64>,
    /// Per-tenant open files limit, soft:hard.
    #[arg(long, env = "CALOR_ULIMIT_NOFILE")]
    pub ulimit_nofile: Option<String>,
    /// Per-tenant process limit, soft:hard.
    #[arg(long, env = "CALOR_ULIMIT_NPROC")]
    pub ulimit_nproc: Option<String>,
    /// Per-tenant process count limit of the container's cgroup.
    #[arg(long, env = "CALOR_PIDS_LIMIT")]
    pub pids_limit: Option<i64>,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    pub rpc_url: String,
    pub ws_url: String,
    pub operator_keypair: PathBuf,
    pub region: u16,
    pub docker_host: String,
    pub instance_image: String,
    pub inventory: InventorySource,
    pub gpu_attach: GpuAttach,
    /// `None`: the provider's address (set once the key is read).
    pub cluster_id: Option<String>,
    pub state_dir: PathBuf,
    pub node_plans: Vec<NodePlan>,
    pub ssh_ports: (u16, u16),
    pub ws_idle_timeout: Duration,
    pub max_restarts: u32,
    pub sweep: Duration,
    pub ssh_bind_ip: String,
    pub public_host: String,
    pub listen: String,
    pub public_url: calor_client::access::Endpoint,
    pub allowed_origins: Vec<String>,
    pub heartbeat: Duration,
    pub resync: Duration,
    pub reconcile: Duration,
    pub fallback_delay: Duration,
    pub compute_unit_price: u64,
    pub provision_timeout: Duration,
    pub ulimit_nofile: (i64, i64),
    pub ulimit_nproc: (i64, i64),
    pub pids_limit: i64,
}

/// Takes each field from `high` when set there, else from `low`.
macro_rules! layer {
    ($high:expr, $low:expr, $($field:ident),+) => {
        Overrides { config: $high.config.or($low.config), $($field: $high.$field.or($low.$field)),+ }
    };
}

impl Overrides {
    fn over(self, low: Overrides) -> Overrides {
        layer!(
            self,
            low,
            rpc_url,
            ws_url,
            operator_keypair,
            region,
            nodes,
            docker_host,
            instance_image,
            gpu_inventory,
            gpu_inventory_file,
            gpu_attach,
            cluster_id,
            state_dir,
            memory_mib,
            cpus,
            shm_mib,
            workspace_mib,
            ssh_ports,
            ws_idle_timeout_secs,
            max_restarts,
            sweep_secs,
            node_tables,
            ssh_bind_ip,
            public_host,
            listen,
            public_url,
            allowed_origins,
            heartbeat_secs,
            resync_secs,
            reconcile_ms,
            fallback_delay_secs,
            compute_unit_price,
            provision_timeout_secs,
            ulimit_nofile,
            ulimit_nproc,
            pids_limit
        )
    }

    pub fn from_file(path: &Path) -> Result<Overrides, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.into(),
            source,
        })
    }
}

impl Settings {
    /// Flags and environment (already merged by clap) over the file named by `--config`.
    pub fn resolve(cli: Overrides) -> Result<Settings, ConfigError> {
        let file = match &cli.config {
            Some(path) => Overrides::from_file(path)?,
            None => Overrides::default(),
        };
        Settings::from_overrides(cli.over(file))
    }

    pub fn from_overrides(o: Overrides) -> Result<Settings, ConfigError> {
        let public_host = o.public_host.clone().unwrap_or_else(|| "127.0.0.1".into());
        let listen = o.listen.clone().unwrap_or_else(|| "127.0.0.1:9400".into());
        let url = o.public_url.clone().unwrap_or_else(|| {
            let port = listen.rsplit(':').next().unwrap_or("9400");
            format!("http://{public_host}:{port}")
        });
        let public_url = calor_client::access::Endpoint::from_url(&url).ok_or_else(|| {
            ConfigError::Invalid(format!(
                "public_url must be http://HOST[:PORT] or https://HOST[:PORT], not {url:?}"
            ))
        })?;
        let inventory = match (
            o.gpu_inventory.as_deref().unwrap_or("nvml"),
            o.gpu_inventory_file,
        ) {
            ("nvml", _) => InventorySource::Nvml,
            ("declared", Some(file)) => InventorySource::Declared(file),
            ("declared", None) => {
                return Err(ConfigError::Invalid(
                    "gpu_inventory = \"declared\" needs gpu_inventory_file".into(),
                ))
            }
            (other, _) => {
                return Err(ConfigError::Invalid(format!(
                    "gpu_inventory must be \"nvml\" or \"declared\", not {other:?}"
                )))
            }
        };
        let gpu_attach = match o.gpu_attach.as_deref() {
            Some(mode) => mode.parse().map_err(ConfigError::Invalid)?,
            None if inventory == InventorySource::Nvml => GpuAttach::DeviceRequest,
            None => GpuAttach::None,
        };
        let default_share = Share {
            memory_mib: o.memory_mib.unwrap_or(16_384),
            cpus: o.cpus.unwrap_or(4.0),
            cpuset: None,
            mems: None,
            shm_mib: o.shm_mib.unwrap_or(2_048),
            workspace_mib: o.workspace_mib.unwrap_or(20_480),
        };
        let node_plans = node_plans(o.nodes, o.node_tables, &default_share)?;
        let region = o
            .region
            .ok_or_else(|| ConfigError::Invalid("region is required (CALOR_REGION)".into()))?;
        let operator_keypair = o.operator_keypair.ok_or_else(|| {
            ConfigError::Invalid("operator_keypair is required (CALOR_OPERATOR_KEYPAIR)".into())
        })?;
        let instance_image = o.instance_image.ok_or_else(|| {
            ConfigError::Invalid("instance_image is required (CALOR_INSTANCE_IMAGE)".into())
        })?;
        let heartbeat_secs = o.heartbeat_secs.unwrap_or(60);
        at_least("heartbeat_secs", heartbeat_secs, MIN_HEARTBEAT_SECS)?;
        let resync_secs = o.resync_secs.unwrap_or(30);
        at_least("resync_secs", resync_secs, MIN_RESYNC_SECS)?;
        let reconcile_ms = o.reconcile_ms.unwrap_or(2_000);
        at_least("reconcile_ms", reconcile_ms, MIN_RECONCILE_MS)?;
        let ws_idle_timeout_secs = o.ws_idle_timeout_secs.unwrap_or(15);
        at_least(
            "ws_idle_timeout_secs",
            ws_idle_timeout_secs,
            MIN_WS_IDLE_TIMEOUT_SECS,
        )?;
        let sweep_secs = o.sweep_secs.unwrap_or(30);
        at_least("sweep_secs", sweep_secs, 1)?;
        let secs = Duration::from_secs;
        Ok(Settings {
            rpc_url: o.rpc_url.unwrap_or_else(|| "http://127.0.0.1:8899".into()),
            ws_url: o.ws_url.unwrap_or_else(|| "ws://127.0.0.1:8900".into()),
            operator_keypair,
            region,
            docker_host: o
                .docker_host
                .unwrap_or_else(|| "unix:///var/run/docker.sock".into()),
            instance_image,
            gpu_attach,
            inventory,
            cluster_id: match o.cluster_id.filter(|id| !id.is_empty()) {
                Some(id) if !is_word(&id) => {
                    return Err(ConfigError::Invalid(format!(
                        "cluster_id must be 1 to 64 letters, digits, '.', '_' or '-', not {id:?}"
                    )))
                }
                id => id,
            },
            state_dir: o
                .state_dir
                .unwrap_or_else(|| "/var/lib/calor-provisioner".into()),
            node_plans,
            ssh_ports: port_range(o.ssh_ports.as_deref().unwrap_or("40000-44999"))?,
            ws_idle_timeout: secs(ws_idle_timeout_secs),
            max_restarts: o.max_restarts.unwrap_or(5),
            sweep: secs(sweep_secs),
            ssh_bind_ip: o.ssh_bind_ip.unwrap_or_else(|| "0.0.0.0".into()),
            public_url,
            allowed_origins: o
                .allowed_origins
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(|origin| origin.trim().trim_end_matches('/').to_string())
                .filter(|origin| !origin.is_empty())
                .collect(),
            public_host,
            listen,
            heartbeat: secs(heartbeat_secs),
            resync: secs(resync_secs),
            reconcile: Duration::from_millis(reconcile_ms),
            fallback_delay: secs(o.fallback_delay_secs.unwrap_or(20)),
            compute_unit_price: o.compute_unit_price.unwrap_or(1_000),
            provision_timeout: secs(o.provision_timeout_secs.unwrap_or(120)),
            ulimit_nofile: limit_pair(
                "ulimit_nofile",
                o.ulimit_nofile.as_deref(),
                (1_024, 20_000),
            )?,
            ulimit_nproc: limit_pair("ulimit_nproc", o.ulimit_nproc.as_deref(), (1_024, 1_024))?,
            pids_limit: o.pids_limit.unwrap_or(4_096),
        })
    }

    /// The heartbeat must reach the chain at least twice within its heartbeat timeout, so one
    /// lost transaction never makes a serving node reclaimable.
    pub fn check_heartbeat(&self, chain_timeout_secs: u64) -> Result<(), ConfigError> {
        let secs = self.heartbeat.as_secs();
        if secs * 2 > chain_timeout_secs {
            return Err(ConfigError::Interval {
                name: "heartbeat_secs",
                value: secs.to_string(),
                rule: format!(
                    "at most half the chain's heartbeat timeout ({chain_timeout_secs} s), so one \
                     lost heartbeat does not make the node reclaimable"
                ),
            });
        }
        Ok(())
    }

    /// The node indexes, in config order.
    pub fn node_indexes(&self) -> Vec<u32> {
        self.node_plans.iter().map(|n| n.index).collect()
    }
}

/// A label value and file-name part: letters, digits, `.`, `_`, `-`.
fn is_word(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn at_least(name: &'static str, value: u64, floor: u64) -> Result<(), ConfigError> {
    if value < floor {
        return Err(ConfigError::Interval {
            name,
            value: value.to_string(),
            rule: format!("at least {floor}"),
        });
    }
    Ok(())
}

/// The nodes from `nodes` (indexes, cluster-wide share) and/or `[[node]]` tables (their own
/// overrides); when both are given they must name the same nodes.
fn node_plans(
    indexes: Option<Vec<u32>>,
    tables: Option<Vec<NodeSettings>>,
    default: &Share,
) -> Result<Vec<NodePlan>, ConfigError> {
    let tables = match (indexes, tables) {
        (None, None) => vec![NodeSettings::default()],
        (Some(indexes), None) => indexes
            .into_iter()
            .map(|index| NodeSettings {
                index,
                ..NodeSettings::default()
            })
            .collect(),
        (None, Some(tables)) => tables,
        (Some(indexes), Some(tables)) => {
            let named: Vec<u32> = tables.iter().map(|t| t.index).collect();
            if indexes != named {
                return Err(ConfigError::Invalid(format!(
                    "nodes = {indexes:?} and the [[node]] tables ({named:?}) disagree: give one"
                )));
            }
            tables
        }
    };
    if tables.is_empty() {
        return Err(ConfigError::Invalid(
            "nodes: at least one node index".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut plans = Vec::new();
    for t in tables {
        if !seen.insert(t.index) {
            return Err(ConfigError::Invalid(format!(
                "node {} is listed twice",
                t.index
            )));
        }
        let share = Share {
            memory_mib: t.memory_mib.unwrap_or(default.memory_mib),
            cpus: t.cpus.unwrap_or(default.cpus),
            cpuset: t.cpuset,
            mems: t.mems,
            shm_mib: t.shm_mib.unwrap_or(default.shm_mib),
            workspace_mib: t.workspace_mib.unwrap_or(default.workspace_mib),
        };
        let node = t.index;
        let bad = |what: String| ConfigError::Invalid(format!("node {node}: {what}"));
        if share.memory_mib < 64 {
            return Err(bad(format!(
                "memory_mib = {} is below 64",
                share.memory_mib
            )));
        }
        if !(share.cpus > 0.0 && share.cpus.is_finite()) {
            return Err(bad(format!("cpus = {} must be above 0", share.cpus)));
        }
        if share.shm_mib == 0 || share.shm_mib > share.memory_mib {
            return Err(bad(format!(
                "shm_mib = {} must be between 1 and memory_mib ({})",
                share.shm_mib, share.memory_mib
            )));
        }
        if share.workspace_mib < 16 {
            return Err(bad(format!(
                "workspace_mib = {} is below 16",
                share.workspace_mib
            )));
        }
        plans.push(NodePlan {
            index: t.index,
            gpus: t.gpus,
            share,
            enabled: t.enabled.unwrap_or(true),
        });
    }
    Ok(plans)
}

fn port_range(value: &str) -> Result<(u16, u16), ConfigError> {
    let invalid = || {
        ConfigError::Invalid(format!(
            "ssh_ports must be FIRST-LAST with 1024 <= FIRST <= LAST, not {value:?}"
        ))
    };
    let (first, last) = value.split_once('-').ok_or_else(invalid)?;
    let (first, last): (u16, u16) = (
        first.trim().parse().map_err(|_| invalid())?,
        last.trim().parse().map_err(|_| invalid())?,
    );
    if first < 1024 || first > last {
        return Err(invalid());
    }
    Ok((first, last))
}

fn limit_pair(
    name: &str,
    value: Option<&str>,
    default: (i64, i64),
) -> Result<(i64, i64), ConfigError> {
    let Some(value) = value else {
        return Ok(default);
    };
    let invalid = || {
        ConfigError::Invalid(format!(
            "{name} must be SOFT:HARD with SOFT <= HARD, not {value:?}"
        ))
    };
    let (soft, hard) = value.split_once(':').ok_or_else(invalid)?;
    let (soft, hard): (i64, i64) = (
        soft.parse().map_err(|_| invalid())?,
        hard.parse().map_err(|_| invalid())?,
    );
    if soft > hard || soft < 0 {
        return Err(invalid());
    }
    Ok((soft, hard))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> Overrides {
        Overrides {
            operator_keypair: Some("op.json".into()),
            region: Some(1),
            instance_image: Some("img".into()),
            ..Overrides::default()
        }
    }

    #[test]
    fn flags_win_over_the_file() {
        let file: Overrides =
            toml::from_str("region = 2\nrpc_url = \"http://file\"\nnodes = [0, 1]").unwrap();
        let cli = Overrides {
            region: Some(3),
            ..minimal()
        };
        let s = Settings::from_overrides(cli.over(file)).unwrap();
        assert_eq!(s.region, 3);
        assert_eq!(s.rpc_url, "http://file");
        assert_eq!(s.node_indexes(), vec![0, 1]);
    }

    #[test]
    fn the_example_file_is_complete_and_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("provisioner.example.toml");
        let file = Overrides::from_file(&path).unwrap();
        let s = Settings::from_overrides(file).unwrap();
        assert_eq!(
            (s.region, s.node_indexes(), s.inventory.clone()),
            (1, vec![0, 1], InventorySource::Nvml)
        );
        assert_eq!(s.ulimit_nofile, (1024, 20000));
        assert_eq!(s.reconcile, Duration::from_millis(2000));
        assert_eq!(s.gpu_attach, GpuAttach::DeviceRequest);
        // node 0 has its own cpuset and NUMA node; node 1 takes the cluster-wide share
        let (n0, n1) = (&s.node_plans[0], &s.node_plans[1]);
        assert_eq!(n0.share.cpuset.as_deref(), Some("0-15"));
        assert_eq!(n0.share.mems.as_deref(), Some("0"));
        assert_eq!(n1.share.memory_mib, 65536);
        assert_eq!(s.ssh_ports, (40000, 44999));
    }

    #[test]
    fn declared_inventory_needs_a_file_and_attaches_no_gpus_by_default() {
        let o = Overrides {
            gpu_inventory: Some("declared".into()),
            ..minimal()
        };
        assert!(matches!(
            Settings::from_overrides(o),
            Err(ConfigError::Invalid(_))
        ));
        let o = Overrides {
            gpu_inventory: Some("declared".into()),
            gpu_inventory_file: Some("gpus.toml".into()),
            ..minimal()
        };
        let s = Settings::from_overrides(o).unwrap();
        assert_eq!(s.inventory, InventorySource::Declared("gpus.toml".into()));
        assert_eq!(s.gpu_attach, GpuAttach::None);
        assert_eq!(
            Settings::from_overrides(minimal()).unwrap().gpu_attach,
            GpuAttach::DeviceRequest
        );
    }

    #[test]
    fn unknown_file_keys_and_bad_limits_are_named() {
        let err = toml::from_str::<Overrides>("regoin = 1").unwrap_err();
        assert!(err.to_string().contains("regoin"), "{err}");
        let o = Overrides {
            ulimit_nofile: Some("30:20".into()),
            ..minimal()
        };
        assert!(
            matches!(Settings::from_overrides(o), Err(ConfigError::Invalid(m)) if m.contains("ulimit_nofile"))
        );
        let o = Overrides {
            region: None,
            ..minimal()
        };
        assert!(
            matches!(Settings::from_overrides(o), Err(ConfigError::Invalid(m)) if m.contains("region"))
        );
    }

    #[test]
    fn intervals_shares_and_ports_are_checked_by_name() {
        let interval = |o: Overrides| match Settings::from_overrides(o) {
            Err(ConfigError::Interval { name, .. }) => name,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            interval(Overrides {
                heartbeat_secs: Some(1),
                ..minimal()
            }),
            "heartbeat_secs"
        );
        assert_eq!(
            interval(Overrides {
                reconcile_ms: Some(10),
                ..minimal()
            }),
            "reconcile_ms"
        );
        assert_eq!(
            interval(Overrides {
                resync_secs: Some(0),
                ..minimal()
            }),
            "resync_secs"
        );
        let s = Settings::from_overrides(Overrides {
            heartbeat_secs: Some(200),
            ..minimal()
        })
        .unwrap();
        let err = s.check_heartbeat(300).unwrap_err();
        assert!(err.to_string().contains("half"), "{err}");
        assert!(s.check_heartbeat(400).is_ok());

        let invalid = |o: Overrides| match Settings::from_overrides(o) {
            Err(ConfigError::Invalid(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(invalid(Overrides {
            shm_mib: Some(1 << 20),
            ..minimal()
        })
        .contains("shm_mib"));
        assert!(invalid(Overrides {
            ssh_ports: Some("50-40".into()),
            ..minimal()
        })
        .contains("ssh_ports"));
        assert!(invalid(Overrides {
            gpu_attach: Some("magic".into()),
            ..minimal()
        })
        .contains("gpu_attach"));
        assert!(invalid(Overrides {
            cluster_id: Some("../etc".into()),
            ..minimal()
        })
        .contains("cluster_id"));
        let both: Overrides = toml::from_str("nodes = [0]\n[[node]]\nindex = 1").unwrap();
        assert!(invalid(Overrides {
            ..both.over(minimal())
        })
        .contains("disagree"));
    }
}
