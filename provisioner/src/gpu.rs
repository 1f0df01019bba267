//! The cluster's GPUs: the inventory instances are given (by UUID) and their telemetry.
//!
//! NVML (`libnvidia-ml`, loaded at run time) is the real source. On a host without the NVIDIA
//! driver the operator must declare the GPUs in a file; the provisioner then says so in its
//! logs and in `/metrics` (`calor_gpu_inventory_declared 1`) and reports no measurements.
use std::path::Path;

use nvml_wrapper::enum_wrappers::device::TemperatureSensor;
use nvml_wrapper::Nvml;
use serde::Deserialize;

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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// Where GPUs are found and measured.
pub trait GpuSource: Send + Sync {
    fn inventory(&self) -> &[Gpu];
    /// Current measurements; empty where nothing can be measured.
    fn sample(&self) -> Vec<GpuSample>;
    /// Whether the inventory was declared rather than read from the driver.
    fn declared(&self) -> bool;
}

/// GPUs read from the NVIDIA driver.
pub struct NvmlGpus {
    nvml: Nvml,
    gpus: Vec<Gpu>,
    pub driver_version: String,
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
        Ok(Self {
            nvml,
            gpus,
            driver_version,
        })
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
}

/// GPUs declared in a file, for hosts without a driver.
#[derive(Debug)]
pub struct DeclaredGpus {
    gpus: Vec<Gpu>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclaredFile {
    gpu: Vec<Gpu>,
}

impl DeclaredGpus {
    pub fn load(path: &Path) -> Result<Self, GpuError> {
        let error = |message: String| GpuError::Declared {
            path: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        Self::parse(&text).map_err(error)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let file: DeclaredFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut seen = std::collections::HashSet::new();
        for gpu in &file.gpu {
            if !seen.insert(&gpu.uuid) {
                return Err(format!("GPU {} is declared twice", gpu.uuid));
            }
        }
        Ok(Self { gpus: file.gpu })
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
}

/// Splits the inventory among the cluster's nodes in order: node `i` gets the next
/// `gpu_count` GPUs. Fails when the cluster has fewer GPUs than its nodes were listed with.
pub fn assign(
    inventory: &[Gpu],
    gpu_counts: &[(u32, u8)],
) -> Result<Vec<(u32, Vec<String>)>, String> {
    let mut next = inventory.iter();
    gpu_counts
        .iter()
        .map(|&(node, count)| {
            let uuids: Vec<String> = next.by_ref().take(count as usize).map(|g| g.uuid.clone()).collect();
            if uuids.len() < count as usize {
                return Err(format!(
                    "node {node} is listed with {count} GPU(s) but the inventory has only {} in all",
                    inventory.len()
                ));
            }
            Ok((node, uuids))
        })
        .collect()
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

    #[test]
    fn declared_inventory_is_split_among_nodes_in_order() {
        let gpus = DeclaredGpus::parse(FILE).unwrap();
        assert!(gpus.declared());
        assert!(gpus.sample().is_empty());
        let split = assign(gpus.inventory(), &[(0, 1), (1, 1)]).unwrap();
        assert_eq!(
            split,
            vec![(0, vec!["GPU-aaaa".into()]), (1, vec!["GPU-bbbb".into()])]
        );
        let err = assign(gpus.inventory(), &[(0, 2), (1, 1)]).unwrap_err();
        assert!(err.contains("node 1"), "{err}");
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
