//! The launch catalog: GPU models and regions, as `migrations/` seeds them and the tests use them.
use calor::constants::DEFAULT_MIN_RENTAL_MICRO_USD;
use calor::instructions::{GpuModelArgs, RegionArgs};
use calor::state::{CalorPriceParams, ConfigParams, OracleParams, StakingParams};

use crate::pyth::SOL_USD_FEED_ID;

/// Decimals of the Calor mint.
pub const CALOR_DECIMALS: u8 = 6;
/// One whole Calor token in base units.
pub const CALOR: u64 = 1_000_000;

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

/// The launch settings: 5% protocol fee, a burn of 20% of the market value of Calor time
/// served and a 50% Calor subsidy (both paid by the subsidy vault, within 1,000,000 Calor of
/// new commitments per epoch), $5 minimum, SOL/USD at most 60 s old with confidence within
/// 2%, Calor rate within $0.0001–$1,000, at most 1 h old and moving at most 10% per hour,
/// 15 min queue timeout, 5 min heartbeat timeout; one-day epochs, half of each Calor fee to
/// stakers, priority from 1,000 / 10,000 / 100,000 seasoned Calor, a 3-day vote with a 20%
/// quorum (40% for high-impact actions, which then wait 2 days for a possible veto), 7 days
/// to execute a passed proposal, 1,000 seasoned Calor to propose.
pub fn launch_params() -> ConfigParams {
    ConfigParams {
        protocol_fee_bps: 500,
        burn_bps: 2_000,
        calor_subsidy_bps: 5_000,
        min_rental_micro_usd: DEFAULT_MIN_RENTAL_MICRO_USD,
        subsidy_budget_per_epoch: CALOR * 1_000_000,
        sol_usd_oracle: OracleParams {
            feed_id: SOL_USD_FEED_ID,
            max_age_secs: 60,
            max_conf_bps: 200,
            _padding: [0; 2],
        },
        calor_price: CalorPriceParams {
            max_age_secs: 3_600,
            min_micro_usd: 100,
            max_micro_usd: 1_000_000_000,
            max_move_bps_per_hour: 1_000,
            _padding: [0; 2],
        },
        queue_timeout_secs: 900,
        heartbeat_timeout_secs: 300,
        staking: StakingParams {
            epoch_secs: 86_400,
            staker_fee_share_bps: 5_000,
            priority_tiers: [CALOR * 1_000, CALOR * 10_000, CALOR * 100_000],
            quorum_bps: 2_000,
            high_impact_quorum_bps: 4_000,
            voting_period_secs: 3 * 86_400,
            timelock_secs: 2 * 86_400,
            execution_window_secs: 7 * 86_400,
            min_stake_to_propose: CALOR * 1_000,
            _padding: [0; 2],
        },
        _padding: [0; 2],
    }
}
