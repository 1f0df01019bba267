//! The launch catalog: GPU models and regions, as `migrations/` will seed them.
use calor::instructions::{GpuModelArgs, RegionArgs};

pub struct GpuModelSpec {
    pub id: u16,
    pub name: &'static str,
    pub architecture: &'static str,
    pub vram_gb: u16,
    pub fp16_tflops: u32,
}

pub const GPU_MODELS: [GpuModelSpec; 6] = [
    GpuModelSpec {
        id: 1,
        name: "H100 PCIe",
        architecture: "Hopper",
        vram_gb: 80,
        fp16_tflops: 756,
    },
    GpuModelSpec {
        id: 2,
        name: "H100 SXM5",
        architecture: "Hopper",
        vram_gb: 80,
        fp16_tflops: 989,
    },
    GpuModelSpec {
        id: 3,
        name: "H200 SXM5",
        architecture: "Hopper",
        vram_gb: 141,
        fp16_tflops: 989,
    },
    GpuModelSpec {
        id: 4,
        name: "A100 SXM4",
        architecture: "Ampere",
        vram_gb: 80,
        fp16_tflops: 312,
    },
    GpuModelSpec {
        id: 5,
        name: "A100 PCIe",
        architecture: "Ampere",
        vram_gb: 80,
        fp16_tflops: 312,
    },
    GpuModelSpec {
        id: 6,
        name: "RTX 4090",
        architecture: "Ada Lovelace",
        vram_gb: 24,
        fp16_tflops: 165,
    },
];

pub struct RegionSpec {
    pub id: u16,
    pub name: &'static str,
    pub code: &'static str,
    pub latitude_micro_deg: i32,
    pub longitude_micro_deg: i32,
}

pub const REGIONS: [RegionSpec; 5] = [
    RegionSpec {
        id: 1,
        name: "US East (Ohio)",
        code: "us-east",
        latitude_micro_deg: 39_961_000,
        longitude_micro_deg: -82_998_000,
    },
    RegionSpec {
        id: 2,
        name: "US West (N. California)",
        code: "us-west",
        latitude_micro_deg: 37_774_000,
        longitude_micro_deg: -122_419_000,
    },
    RegionSpec {
        id: 3,
        name: "EU West (Paris)",
        code: "eu-west",
        latitude_micro_deg: 48_856_000,
        longitude_micro_deg: 2_352_000,
    },
    RegionSpec {
        id: 4,
        name: "AP South (Mumbai)",
        code: "ap-south",
        latitude_micro_deg: 19_076_000,
        longitude_micro_deg: 72_877_000,
    },
    RegionSpec {
        id: 5,
        name: "US Central (Iowa)",
        code: "us-central",
        latitude_micro_deg: 41_878_000,
        longitude_micro_deg: -93_097_000,
    },
];

impl GpuModelSpec {
    pub fn args(&self, active: bool) -> GpuModelArgs {
        GpuModelArgs {
            name: self.name.into(),
            architecture: self.architecture.into(),
            vram_gb: self.vram_gb,
            fp16_tflops: self.fp16_tflops,
            active,
        }
    }
}

impl RegionSpec {
    pub fn args(&self, active: bool) -> RegionArgs {
        RegionArgs {
            name: self.name.into(),
            code: self.code.into(),
            latitude_micro_deg: self.latitude_micro_deg,
            longitude_micro_deg: self.longitude_micro_deg,
            active,
        }
    }
}
