use anchor_lang::prelude::*;

use crate::constants::{MAX_NAME_LEN, MAX_SHORT_LEN};

/// One GPU type in the catalog. PDA: `[GPU_MODEL_SEED, id]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct GpuModel {
    pub id: u16,
    #[max_len(MAX_NAME_LEN)]
    pub name: String,
    #[max_len(MAX_SHORT_LEN)]
    pub architecture: String,
    pub vram_gb: u16,
    /// Dense FP16 tensor throughput, in TFLOPS.
    pub fp16_tflops: u32,
    /// Inactive models take no new nodes or rentals; existing ones run to their end.
    pub active: bool,
    pub bump: u8,
}
