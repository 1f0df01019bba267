//! The cluster's GPUs: the inventory instances are given (by UUID), their telemetry and their
//! health, and which node owns which GPU (kept in a state file, so the split never depends on
//! the order of the config).
//!
//! NVML (`libnvidia-ml`, loaded at run time) is the real source. On a host without the NVIDIA
//! driver the operator must declare the GPUs in a file; the provisioner then says so in its
//! logs and in `/metrics` (`calor_gpu_inventory_declared 1`) and reports no measurements.
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use calor_client::Pubkey;
use nvml_wrapper::bitmasks::event::EventTypes;
use nvml_wrapper::enum_wrappers::device::{EccCounter, MemoryError, TemperatureSensor};
use nvml_wrapper::enums::event::XidError;
use nvml_wrapper::error::NvmlError;
use nvml_wrapper::Nvml;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "NVML is not available ({0}): this host has no usable NVIDIA driver. Declare the GPUs \
         instead: --gpu-inventory declared --gpu-inventory-file <file>"
    )]
    NvmlUnavailable(String),
    #[error("NVML: {0}")]
    Nvml(#[from] nvml_wrapper::error::NvmlError),
    #[error("GPU inventory file {path}: {message}")]
    Declared { path: String, message: String },
}

/// One GPU as instances see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gpu {
    /// e.g. `GPU-5c3f…`; passed to the engine as a device request.
    pub uuid: String,
    pub name: String,
    pub memory_mib: u64,
}

/// A measurement of one GPU.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuSample {
    pub uuid: String,
    pub utilization_pct: u32,
    pub memory_used_mib: u64,
    pub power_watts: f64,
    pub temperature_c: u32,
}

/// Whether a GPU can be given to a tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GpuHealth {
    Healthy,
    Unhealthy(String),
}

/// Where GPUs are found, measured and checked.
pub trait GpuSource: Send + Sync {
    fn inventory(&self) -> &[Gpu];
    /// Current measurements; empty where nothing can be measured.
    fn sample(&self) -> Vec<GpuSample>;
    /// Whether the inventory was declared rather than read from the driver.
    fn declared(&self) -> bool;
    /// Each GPU's health now, by UUID.
    fn health(&self) -> HashMap<String, GpuHealth>;
}

/// Xid errors that mean the hardware, not the tenant's program, failed (NVIDIA's Xid
/// catalogue): double-bit ECC, page retirement and row remapping, NVLink, fallen off the bus,
/// contained/uncontained ECC, GSP errors. Application faults (13, 31, 43, 45) are not here:
/// a tenant must not be able to take a node offline by crashing its own program.
pub const HARDWARE_XIDS: [u64; 13] = [48, 62, 63, 64, 74, 79, 92, 94, 95, 119, 120, 140, 154];

/// GPUs read from the NVIDIA driver.
pub struct NvmlGpus {
    nvml: Nvml,
    gpus: Vec<Gpu>,
    pub driver_version: String,
    /// Hardware Xids seen since start, by UUID (a GPU stays unhealthy until it is reset and
    /// the provisioner restarted).
    xids: Arc<Mutex<HashMap<String, u64>>>,
}

impl NvmlGpus {
    pub fn open() -> Result<Self, GpuError> {
        let nvml = Nvml::init().map_err(|e| GpuError::NvmlUnavailable(e.to_string()))?;
        let driver_version = nvml.sys_driver_version()?;
        let mut gpus = Vec::new();
        for index in 0..nvml.device_count()? {
            let device = nvml.device_by_index(index)?;
            gpus.push(Gpu {
                uuid: device.uuid()?,
                name: device.name()?,
                memory_mib: device.memory_info()?.total / (1024 * 1024),
            });
        }
        let xids = Arc::new(Mutex::new(HashMap::new()));
        watch_xids(xids.clone());
        Ok(Self {
            nvml,
            gpus,
            driver_version,
            xids,
        })
    }

    fn check(&self, index: u32) -> GpuHealth {
        let device = match self.nvml.device_by_index(index) {
            Ok(device) => device,
            Err(e) => return GpuHealth::Unhealthy(format!("NVML cannot open it: {e}")),
        };
        match device.are_pages_pending_retired() {
            Ok(true) => {
                return GpuHealth::Unhealthy("memory pages pending retirement: reset needed".into())
            }
            Err(NvmlError::GpuLost) => return GpuHealth::Unhealthy("fallen off the bus".into()),
            _ => {}
        }
        if let Ok(n @ 1..) = device.total_ecc_errors(MemoryError::Uncorrected, EccCounter::Volatile)
        {
            return GpuHealth::Unhealthy(format!(
                "{n} uncorrected ECC errors since the driver loaded"
            ));
        }
        match device.uuid() {
            Ok(uuid) => match self.xids.lock().expect("xid lock").get(&uuid) {
                Some(xid) => GpuHealth::Unhealthy(format!("Xid {xid}")),
                None => GpuHealth::Healthy,
            },
            Err(e) => GpuHealth::Unhealthy(format!("NVML cannot read it: {e}")),
        }
    }

    fn measure(&self, index: u32) -> Result<GpuSample, nvml_wrapper::error::NvmlError> {
        let device = self.nvml.device_by_index(index)?;
        Ok(GpuSample {
            uuid: device.uuid()?,
            utilization_pct: device.utilization_rates()?.gpu,
            memory_used_mib: device.memory_info()?.used / (1024 * 1024),
            power_watts: f64::from(device.power_usage()?) / 1_000.0,
            temperature_c: device.temperature(TemperatureSensor::Gpu)?,
        })
    }
}

impl GpuSource for NvmlGpus {
    fn inventory(&self) -> &[Gpu] {
        &self.gpus
    }

    fn sample(&self) -> Vec<GpuSample> {
        (0..self.gpus.len() as u32)
            .filter_map(|i| match self.measure(i) {
                Ok(sample) => Some(sample),
                Err(e) => {
                    tracing::warn!(gpu = i, error = %e, "GPU measurement failed");
                    None
                }
            })
            .collect()
    }

    fn declared(&self) -> bool {
        false
    }

    fn health(&self) -> HashMap<String, GpuHealth> {
        self.gpus
            .iter()
            .enumerate()
            .map(|(i, g)| (g.uuid.clone(), self.check(i as u32)))
            .collect()
    }
}

/// Records hardware Xid events of every GPU, on a thread with its own NVML handle (an event
/// set borrows the handle it came from, and waits block).
fn watch_xids(seen: Arc<Mutex<HashMap<String, u64>>>) {
    let spawned = std::thread::Builder::new()
        .name("nvml-xid".into())
        .spawn(move || {
            let watch = || -> Result<(), NvmlError> {
                let nvml = Nvml::init()?;
                let mut set = nvml.create_event_set()?;
                for index in 0..nvml.device_count()? {
                    set = nvml
                        .device_by_index(index)?
                        .register_events(EventTypes::CRITICAL_XID_ERROR, set)
                        .map_err(|e| e.error)?;
                }
                loop {
                    match set.wait(1_000) {
                        Ok(event) => {
                            if let (Some(XidError::Value(xid)), Ok(uuid)) =
                                (event.event_data, event.device.uuid())
                            {
                                tracing::error!(gpu = %uuid, xid, "GPU Xid error");
                                if HARDWARE_XIDS.contains(&xid) {
                                    seen.lock().expect("xid lock").insert(uuid, xid);
                                }
                            }
                        }
                        Err(NvmlError::Timeout) => {}
                        Err(e) => return Err(e),
                    }
                }
            };
            if let Err(e) = watch() {
                tracing::warn!(error = %e, "Xid events are not watched on this host");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the Xid watcher");
    }
}

/// GPUs declared in a file, for hosts without a driver. The file is read again for each
/// health check, so an operator can mark a GPU unhealthy (`unhealthy = "reason"`) by hand.
#[derive(Debug)]
pub struct DeclaredGpus {
    gpus: Vec<Gpu>,
    path: Option<PathBuf>,
    last_health: Mutex<HashMap<String, GpuHealth>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclaredFile {
    gpu: Vec<DeclaredGpu>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclaredGpu {
    uuid: String,
    name: String,
    memory_mib: u64,
    #[serde(default)]
    unhealthy: Option<String>,
}

fn declared_health(file: &DeclaredFile) -> HashMap<String, GpuHealth> {
    file.gpu
        .iter()
        .map(|g| {
            let health = match &g.unhealthy {
                Some(reason) => GpuHealth::Unhealthy(format!("declared unhealthy: {reason}")),
                None => GpuHealth::Healthy,
            };
            (g.uuid.clone(), health)
        })
        .collect()
}

impl DeclaredGpus {
    pub fn load(path: &Path) -> Result<Self, GpuError> {
        let error = |message: String| GpuError::Declared {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let mut gpus = Self::parse(&text).map_err(error)?;
        gpus.path = Some(path.to_path_buf());
        Ok(gpus)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file = Self::read(text)?;
        let mut seen = HashSet::new();
        for gpu in &file.gpu {
            if !seen.insert(&gpu.uuid) {
                return Err(format!("GPU {} is declared twice", gpu.uuid));
            }
        }
        Ok(Self {
            last_health: Mutex::new(declared_health(&file)),
            gpus: file
                .gpu
                .into_iter()
                .map(|g| Gpu {
                    uuid: g.uuid,
                    name: g.name,
                    memory_mib: g.memory_mib,
                })
                .collect(),
            path: None,
        })
    }

    fn read(text: &str) -> Result<DeclaredFile, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

impl GpuSource for DeclaredGpus {
    fn inventory(&self) -> &[Gpu] {
        &self.gpus
    }

    fn sample(&self) -> Vec<GpuSample> {
        Vec::new()
    }

    fn declared(&self) -> bool {
        true
    }

    fn health(&self) -> HashMap<String, GpuHealth> {
        let mut last = self.last_health.lock().expect("health lock");
        if let Some(path) = &self.path {
            match std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|text| Self::read(&text))
            {
                Ok(file) => *last = declared_health(&file),
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "cannot re-read the declared GPUs; keeping their last health")
                }
            }
        }
        self.gpus
            .iter()
            .map(|g| {
                let health = last.get(&g.uuid).cloned().unwrap_or_else(|| {
                    GpuHealth::Unhealthy("no longer in the declared file".into())
                });
                (g.uuid.clone(), health)
            })
            .collect()
    }
}

/// One of the cluster's nodes and the GPUs it needs.
#[derive(Debug, Clone)]
pub struct NodeNeed {
    pub index: u32,
    pub address: Pubkey,
    pub gpu_count: u8,
    /// GPUs the operator names for it in the config, if any.
    pub pinned: Option<Vec<String>>,
}

/// A GPU a live instance holds (from its `calor.gpus` label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub node: Pubkey,
    pub rental: Pubkey,
}

#[derive(Debug, thiserror::Error)]
pub enum OwnershipError {
    #[error("node {node}: GPU {uuid} is not in this host's inventory")]
    UnknownGpu { node: u32, uuid: String },
    #[error("node {node} is listed on-chain with {count} GPU(s) but the config names {named}")]
    WrongCount { node: u32, count: u8, named: usize },
    #[error("GPU {uuid} is given to both node {first} and node {second}")]
    Twice {
        uuid: String,
        first: u32,
        second: u32,
    },
    #[error(
        "GPU {uuid} is in use by rental {rental} on node {owner}; the config would give it to \
         node {node}. Let that rental end (or drain the node) before moving the GPU"
    )]
    InUseElsewhere {
        uuid: String,
        rental: Pubkey,
        owner: Pubkey,
        node: u32,
    },
    #[error(
        "node {node}: GPU {uuid} belongs to node {owner}, which another provisioner on this host \
         serves"
    )]
    Reserved { node: u32, uuid: String, owner: u32 },
    #[error("node {node} needs {count} GPU(s) but only {free} are free on this host")]
    NotEnough { node: u32, count: u8, free: usize },
    #[error("GPU ownership file {path}: {message}")]
    State { path: PathBuf, message: String },
}

/// Which node owns which GPU: a node keeps the GPUs its live instance holds and those the
/// state file gave it; GPUs named in the config are honoured unless another node's tenant
/// holds them; the rest are handed out from what no node owns, in inventory order. So
/// reordering or extending the config never moves a GPU under a running tenant.
/// `reserved` are GPUs of nodes another provisioner on this host serves (uuid → node).
pub fn assign(
    inventory: &[Gpu],
    nodes: &[NodeNeed],
    persisted: &BTreeMap<u32, Vec<String>>,
    held: &HashMap<String, Held>,
    reserved_elsewhere: &HashMap<String, u32>,
) -> Result<BTreeMap<u32, Vec<String>>, OwnershipError> {
    let known: HashSet<&str> = inventory.iter().map(|g| g.uuid.as_str()).collect();
    let mut owner: HashMap<String, u32> = HashMap::new();
    let mut result: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut take = |uuid: &str, node: &NodeNeed, owner: &mut HashMap<String, u32>| {
        if let Some(&first) = owner.get(uuid) {
            return Err(OwnershipError::Twice {
                uuid: uuid.into(),
                first,
                second: node.index,
            });
        }
        owner.insert(uuid.to_string(), node.index);
        result.entry(node.index).or_default().push(uuid.to_string());
        Ok(())
    };
    let held_elsewhere = |uuid: &str, node: &NodeNeed| {
        held.get(uuid)
            .filter(|h| h.node != node.address)
            .map(|h| OwnershipError::InUseElsewhere {
                uuid: uuid.into(),
                rental: h.rental,
                owner: h.node,
                node: node.index,
            })
    };

    for node in nodes {
        let Some(pinned) = &node.pinned else { continue };
        if pinned.len() != usize::from(node.gpu_count) {
            return Err(OwnershipError::WrongCount {
                node: node.index,
                count: node.gpu_count,
                named: pinned.len(),
            });
        }
        for uuid in pinned {
            if !known.contains(uuid.as_str()) {
                return Err(OwnershipError::UnknownGpu {
                    node: node.index,
                    uuid: uuid.clone(),
                });
            }
            if let Some(e) = held_elsewhere(uuid, node) {
                return Err(e);
            }
            if let Some(&other) = reserved_elsewhere.get(uuid) {
                return Err(OwnershipError::Reserved {
                    node: node.index,
                    uuid: uuid.clone(),
                    owner: other,
                });
            }
            take(uuid, node, &mut owner)?;
        }
    }

    // GPUs the state file gives to a configured node stay reserved for it.
    let configured: HashSet<u32> = nodes.iter().map(|n| n.index).collect();
    let reserved: HashMap<&str, u32> = persisted
        .iter()
        .filter(|(index, _)| configured.contains(index))
        .flat_map(|(index, uuids)| uuids.iter().map(move |u| (u.as_str(), *index)))
        .collect();
    for node in nodes.iter().filter(|n| n.pinned.is_none()) {
        let mine_held = held
            .iter()
            .filter(|(_, h)| h.node == node.address)
            .map(|(uuid, _)| uuid.as_str());
        let mine_persisted = persisted
            .get(&node.index)
            .into_iter()
            .flatten()
            .map(String::as_str);
        let mut candidates: Vec<&str> = mine_held.chain(mine_persisted).collect();
        let free = inventory.iter().map(|g| g.uuid.as_str()).filter(|uuid| {
            !held.contains_key(*uuid) && reserved.get(uuid).is_none_or(|r| *r == node.index)
        });
        candidates.extend(free);
        let mut chosen = 0;
        for uuid in candidates {
            if chosen == node.gpu_count {
                break;
            }
            if !known.contains(uuid)
                || owner.contains_key(uuid)
                || reserved_elsewhere.contains_key(uuid)
                || held_elsewhere(uuid, node).is_some()
            {
                continue;
            }
            take(uuid, node, &mut owner)?;
            chosen += 1;
        }
        if chosen < node.gpu_count {
            return Err(OwnershipError::NotEnough {
                node: node.index,
                count: node.gpu_count,
                free: usize::from(chosen),
            });
        }
    }
    Ok(result)
}

/// The ownership file: which GPUs each node of this provider was given.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct GpuState {
    pub provider: String,
    pub nodes: BTreeMap<u32, Vec<String>>,
}

impl GpuState {
    /// The file's content; nothing if it does not exist yet. A file written for another
    /// provider is refused (a state directory shared by mistake).
    pub fn load(path: &Path, provider: &Pubkey) -> Result<Self, OwnershipError> {
        let error = |message: String| OwnershipError::State {
            path: path.to_path_buf(),
            message,
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    provider: provider.to_string(),
                    nodes: BTreeMap::new(),
                })
            }
            Err(e) => return Err(error(e.to_string())),
        };
        let state: Self = serde_json::from_str(&text).map_err(|e| error(e.to_string()))?;
        if state.provider != provider.to_string() {
            return Err(error(format!(
                "written for provider {}, not {provider}",
                state.provider
            )));
        }
        Ok(state)
    }

    /// Written to a temporary file and renamed over the old one.
    pub fn save(&self, path: &Path) -> Result<(), OwnershipError> {
        let error = |e: std::io::Error| OwnershipError::State {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(error)?;
        }
        let partial = path.with_extension("partial");
        let text = serde_json::to_string_pretty(self).expect("JSON");
        std::fs::write(&partial, text).map_err(error)?;
        std::fs::rename(&partial, path).map_err(error)
    }
}

/// Reads the ownership file under its own lock, assigns this cluster's nodes and writes it
/// back. Entries of nodes another live provisioner on this host serves (`served_elsewhere`)
/// are kept and their GPUs reserved; entries of nodes nobody serves are dropped unless a
/// tenant still holds their GPUs.
pub fn claim_gpus(
    path: &Path,
    provider: &Pubkey,
    inventory: &[Gpu],
    needs: &[NodeNeed],
    held: &HashMap<String, Held>,
    mut served_elsewhere: impl FnMut(u32) -> bool,
) -> Result<BTreeMap<u32, Vec<String>>, OwnershipError> {
    let error = |e: std::io::Error| OwnershipError::State {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(error)?;
    }
    let guard = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.with_extension("lock"))
        .map_err(error)?;
    guard.lock().map_err(error)?;
    let mut state = GpuState::load(path, provider)?;
    let ours: HashSet<u32> = needs.iter().map(|n| n.index).collect();
    let mut kept = BTreeMap::new();
    let mut reserved = HashMap::new();
    let mut persisted = BTreeMap::new();
    for (index, uuids) in std::mem::take(&mut state.nodes) {
        if ours.contains(&index) {
            persisted.insert(index, uuids);
        } else if served_elsewhere(index) {
            reserved.extend(uuids.iter().map(|u| (u.clone(), index)));
            kept.insert(index, uuids);
        } else if uuids.iter().any(|u| held.contains_key(u)) {
            kept.insert(index, uuids);
        }
    }
    let owned = assign(inventory, needs, &persisted, held, &reserved)?;
    kept.extend(owned.clone());
    state.nodes = kept;
    state.save(path)?;
    Ok(owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
        [[gpu]]
        uuid = "GPU-aaaa"
        name = "NVIDIA H100 PCIe"
        memory_mib = 81559
        [[gpu]]
        uuid = "GPU-bbbb"
        name = "NVIDIA H100 PCIe"
        memory_mib = 81559
    "#;

    fn gpus(n: usize) -> Vec<Gpu> {
        (0..n)
            .map(|i| Gpu {
                uuid: format!("GPU-{i}"),
                name: "H100".into(),
                memory_mib: 81559,
            })
            .collect()
    }

    fn node(index: u32, count: u8) -> NodeNeed {
        NodeNeed {
            index,
            address: Pubkey::new_unique(),
            gpu_count: count,
            pinned: None,
        }
    }

    fn uuids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ownership_survives_reordering_and_new_nodes() {
        let inventory = gpus(4);
        let (n0, n1) = (node(0, 2), node(1, 1));
        let first = assign(
            &inventory,
            &[n0.clone(), n1.clone()],
            &BTreeMap::new(),
            &HashMap::new(),
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!(first[&0], uuids(&["GPU-0", "GPU-1"]));
        assert_eq!(first[&1], uuids(&["GPU-2"]));
        // the config lists the nodes the other way round and adds node 2: nothing moves
        let n2 = node(2, 1);
        let again = assign(
            &inventory,
            &[n2, n1.clone(), n0.clone()],
            &first,
            &HashMap::new(),
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!(
            (again[&0].clone(), again[&1].clone()),
            (first[&0].clone(), first[&1].clone())
        );
        assert_eq!(again[&2], uuids(&["GPU-3"]));
        // a node that is not configured any more frees its GPUs, unless its tenant holds them
        let held = HashMap::from([(
            "GPU-2".to_string(),
            Held {
                node: n1.address,
                rental: Pubkey::new_unique(),
            },
        )]);
        let n3 = node(3, 1);
        let without_1 = assign(
            &inventory,
            &[n0.clone(), n3.clone()],
            &first,
            &held,
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!(without_1[&3], uuids(&["GPU-3"]));
        assert!(
            !without_1[&3].contains(&"GPU-2".to_string()),
            "held by node 1's tenant"
        );
    }

    #[test]
    fn a_config_that_moves_a_gpu_under_a_tenant_is_refused() {
        let inventory = gpus(2);
        let (mut n0, n1) = (node(0, 1), node(1, 1));
        let rental = Pubkey::new_unique();
        let held = HashMap::from([(
            "GPU-0".to_string(),
            Held {
                node: n1.address,
                rental,
            },
        )]);
        n0.pinned = Some(uuids(&["GPU-0"]));
        let err = assign(
            &inventory,
            &[n0.clone(), n1.clone()],
            &BTreeMap::new(),
            &held,
            &HashMap::new(),
        )
        .unwrap_err();
        assert!(
            matches!(err, OwnershipError::InUseElsewhere { node: 0, .. }),
            "{err}"
        );
        assert!(err.to_string().contains(&rental.to_string()));
        // without a pin, node 1 keeps what its tenant holds and node 0 gets the other
        n0.pinned = None;
        let ok = assign(
            &inventory,
            &[n0, n1],
            &BTreeMap::new(),
            &held,
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!(
            (ok[&0].clone(), ok[&1].clone()),
            (uuids(&["GPU-1"]), uuids(&["GPU-0"]))
        );
    }

    #[test]
    fn pins_are_checked_and_shortages_named() {
        let inventory = gpus(2);
        let mut a = node(0, 1);
        a.pinned = Some(uuids(&["GPU-9"]));
        assert!(matches!(
            assign(
                &inventory,
                &[a.clone()],
                &BTreeMap::new(),
                &HashMap::new(),
                &HashMap::new()
            ),
            Err(OwnershipError::UnknownGpu { .. })
        ));
        a.pinned = Some(uuids(&["GPU-0", "GPU-1"]));
        assert!(matches!(
            assign(
                &inventory,
                &[a.clone()],
                &BTreeMap::new(),
                &HashMap::new(),
                &HashMap::new()
            ),
            Err(OwnershipError::WrongCount { named: 2, .. })
        ));
        let mut b = node(1, 1);
        a.pinned = Some(uuids(&["GPU-0"]));
        b.pinned = Some(uuids(&["GPU-0"]));
        assert!(matches!(
            assign(
                &inventory,
                &[a.clone(), b],
                &BTreeMap::new(),
                &HashMap::new(),
                &HashMap::new()
            ),
            Err(OwnershipError::Twice { .. })
        ));
        assert!(matches!(
            assign(
                &inventory,
                &[a, node(1, 2)],
                &BTreeMap::new(),
                &HashMap::new(),
                &HashMap::new()
            ),
            Err(OwnershipError::NotEnough { node: 1, .. })
        ));
    }

    #[test]
    fn gpus_of_nodes_another_provisioner_serves_are_left_to_it() {
        let inventory = gpus(2);
        let reserved = HashMap::from([("GPU-0".to_string(), 7)]);
        let got = assign(
            &inventory,
            &[node(0, 1)],
            &BTreeMap::new(),
            &HashMap::new(),
            &reserved,
        )
        .unwrap();
        assert_eq!(got[&0], uuids(&["GPU-1"]));
        let mut pinned = node(0, 1);
        pinned.pinned = Some(uuids(&["GPU-0"]));
        assert!(matches!(
            assign(
                &inventory,
                &[pinned],
                &BTreeMap::new(),
                &HashMap::new(),
                &reserved
            ),
            Err(OwnershipError::Reserved { owner: 7, .. })
        ));

        // through the file: a second process for node 1 keeps node 0's GPU out of its hands
        let dir = std::env::temp_dir().join(format!("calor-gpu-claim-{}", std::process::id()));
        let path = dir.join("gpus.json");
        let provider = Pubkey::new_unique();
        // one provisioner process: claims `need` with `served_elsewhere` as its lock check
        let claim = |need: NodeNeed, served_elsewhere: fn(u32) -> bool| {
            claim_gpus(
                &path,
                &provider,
                &inventory,
                &[need],
                &HashMap::new(),
                served_elsewhere,
            )
            .unwrap()
        };
        let first = claim(node(0, 1), |_| true);
        let second = claim(node(1, 1), |i| i == 0);
        assert_eq!(
            (first[&0].clone(), second[&1].clone()),
            (uuids(&["GPU-0"]), uuids(&["GPU-1"]))
        );
        let state = GpuState::load(&path, &provider).unwrap();
        assert_eq!(state.nodes.len(), 2, "both entries kept");
        // node 0's process is gone and nothing holds its GPU: its entry is dropped
        let third = claim(node(1, 1), |_| false);
        assert_eq!(third[&1], uuids(&["GPU-1"]));
        assert_eq!(GpuState::load(&path, &provider).unwrap().nodes.len(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_state_file_round_trips_and_belongs_to_one_provider() {
        let dir = std::env::temp_dir().join(format!("calor-gpu-state-{}", std::process::id()));
        let path = dir.join("gpus.json");
        let provider = Pubkey::new_unique();
        let mut state = GpuState::load(&path, &provider).unwrap();
        assert!(state.nodes.is_empty());
        state.nodes.insert(0, uuids(&["GPU-0"]));
        state.save(&path).unwrap();
        assert_eq!(GpuState::load(&path, &provider).unwrap().nodes, state.nodes);
        assert!(GpuState::load(&path, &Pubkey::new_unique()).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn declared_gpus_can_be_marked_unhealthy_at_run_time() {
        let dir = std::env::temp_dir().join(format!("calor-gpu-health-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("gpus.toml");
        std::fs::write(&path, FILE).unwrap();
        let gpus = DeclaredGpus::load(&path).unwrap();
        assert!(gpus.declared());
        assert!(gpus.sample().is_empty());
        assert!(gpus.health().values().all(|h| *h == GpuHealth::Healthy));
        let marked = FILE.replacen(
            "memory_mib = 81559",
            "memory_mib = 81559\nunhealthy = \"Xid 79 by hand\"",
            1,
        );
        std::fs::write(&path, marked).unwrap();
        let health = gpus.health();
        assert!(matches!(&health["GPU-aaaa"], GpuHealth::Unhealthy(r) if r.contains("Xid 79")));
        assert_eq!(health["GPU-bbbb"], GpuHealth::Healthy);
        std::fs::write(&path, "not toml [").unwrap();
        assert_eq!(
            gpus.health(),
            health,
            "an unreadable file keeps the last health"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn duplicate_or_misspelt_declarations_are_rejected() {
        let twice = FILE.replace("GPU-bbbb", "GPU-aaaa");
        assert!(DeclaredGpus::parse(&twice).unwrap_err().contains("twice"));
        assert!(DeclaredGpus::parse("[[gpu]]\nuuid = \"x\"\nname = \"y\"\nmemory = 1").is_err());
    }

    #[test]
    fn without_a_driver_nvml_says_what_to_do() {
        // CI hosts have no NVIDIA driver; on a GPU host this opens the real devices.
        match NvmlGpus::open() {
            Err(e @ GpuError::NvmlUnavailable(_)) => {
                assert!(e.to_string().contains("--gpu-inventory declared"))
            }
            Ok(gpus) => assert!(!gpus.inventory().is_empty()),
            Err(other) => panic!("unexpected NVML error: {other}"),
        }
    }
}
