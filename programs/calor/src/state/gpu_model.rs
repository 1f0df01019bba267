use anchor_lang::prelude::*;

use crate::constants::{MAX_NAME_LEN, MAX_SHORT_LEN};

/// One GPU type in the catalog. PDA: `[GPU_MODEL_SEED, id]`. Zero-copy: every open reads it.
#[account(zero_copy)]
#[derive(Debug)]
pub struct GpuModel {
    /// UTF-8, zero-padded.
    pub name: [u8; MAX_NAME_LEN],
    pub architecture: [u8; MAX_SHORT_LEN],
    /// Dense FP16 tensor throughput, in TFLOPS.
    pub fp16_tflops: u32,
    pub id: u16,
    pub vram_gb: u16,
    /// Inactive models (0) take no new nodes or rentals; existing ones run to their end.
    pub active: u8,
    pub bump: u8,
    pub _padding: [u8; 2],
}

impl GpuModel {
    pub fn is_active(&self) -> bool {
        self.active != 0
    }

    pub fn name(&self) -> &str {
        crate::state::fixed_str(&self.name)
    }

    pub fn architecture(&self) -> &str {
        crate::state::fixed_str(&self.architecture)
    }
}
