//! Settings from a TOML file, the environment (`CALOR_*`, `DOCKER_HOST`) and flags, in that
//! order of precedence from lowest to highest, over built-in defaults for a local cluster.
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

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
    /// Pass GPUs to instances as device requests (needs the NVIDIA container toolkit).
    #[arg(long, env = "CALOR_ATTACH_GPUS")]
    pub attach_gpus: Option<bool>,
    /// Host address instances' SSH ports are published on.
    #[arg(long, env = "CALOR_SSH_BIND_IP")]
    pub ssh_bind_ip: Option<String>,
    /// Host name renters connect to (reported by the status API).
    #[arg(long, env = "CALOR_PUBLIC_HOST")]
    pub public_host: Option<String>,
    /// Address of the HTTP server (/metrics, /healthz, /rentals/<address>).
    #[arg(long, env = "CALOR_LISTEN")]
    pub listen: Option<String>,
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
    pub nodes: Vec<u32>,
    pub docker_host: String,
    pub instance_image: String,
    pub inventory: InventorySource,
    pub attach_gpus: bool,
    pub ssh_bind_ip: String,
    pub public_host: String,
    pub listen: String,
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
            attach_gpus,
            ssh_bind_ip,
            public_host,
            listen,
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
        let nodes = o.nodes.unwrap_or_else(|| vec![0]);
        if nodes.is_empty() {
            return Err(ConfigError::Invalid(
                "nodes: at least one node index".into(),
            ));
        }
        let region = o
            .region
            .ok_or_else(|| ConfigError::Invalid("region is required (CALOR_REGION)".into()))?;
        let operator_keypair = o.operator_keypair.ok_or_else(|| {
            ConfigError::Invalid("operator_keypair is required (CALOR_OPERATOR_KEYPAIR)".into())
        })?;
        let instance_image = o.instance_image.ok_or_else(|| {
            ConfigError::Invalid("instance_image is required (CALOR_INSTANCE_IMAGE)".into())
        })?;
        let secs = Duration::from_secs;
        Ok(Settings {
            rpc_url: o.rpc_url.unwrap_or_else(|| "http://127.0.0.1:8899".into()),
            ws_url: o.ws_url.unwrap_or_else(|| "ws://127.0.0.1:8900".into()),
            operator_keypair,
            region,
            nodes,
            docker_host: o
                .docker_host
                .unwrap_or_else(|| "unix:///var/run/docker.sock".into()),
            instance_image,
            attach_gpus: o.attach_gpus.unwrap_or(inventory == InventorySource::Nvml),
            inventory,
            ssh_bind_ip: o.ssh_bind_ip.unwrap_or_else(|| "0.0.0.0".into()),
            public_host: o.public_host.unwrap_or_else(|| "127.0.0.1".into()),
            listen: o.listen.unwrap_or_else(|| "127.0.0.1:9400".into()),
            heartbeat: secs(o.heartbeat_secs.unwrap_or(60)),
            resync: secs(o.resync_secs.unwrap_or(30)),
            reconcile: Duration::from_millis(o.reconcile_ms.unwrap_or(2_000)),
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
        assert_eq!(s.nodes, vec![0, 1]);
    }

    #[test]
    fn the_example_file_is_complete_and_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("provisioner.example.toml");
        let file = Overrides::from_file(&path).unwrap();
        let s = Settings::from_overrides(file).unwrap();
        assert_eq!(
            (s.region, s.nodes.clone(), s.inventory.clone()),
            (1, vec![0], InventorySource::Nvml)
        );
        assert_eq!(s.ulimit_nofile, (1024, 20000));
        assert_eq!(s.reconcile, Duration::from_millis(2000));
    }

    #[test]
    fn declared_inventory_needs_a_file_and_does_not_attach_gpus() {
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
        assert!(!s.attach_gpus);
        assert!(Settings::from_overrides(minimal()).unwrap().attach_gpus);
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
}
