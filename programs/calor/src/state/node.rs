use anchor_lang::prelude::*;

/// One rentable machine (a GPU offer). PDA: `[NODE_SEED, provider, index]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Node {
    pub provider: Pubkey,
    pub index: u32,
    pub gpu_model: u16,
    pub region: u16,
    pub gpu_count: u8,
    /// Price of the whole node for one hour, in micro-USD.
    pub hourly_rate_micro_usd: u64,
    pub status: NodeStatus,
    /// The rental it serves while busy.
    pub current_rental: Option<Pubkey>,
    pub last_heartbeat: i64,
    pub bump: u8,
}

#[derive(AnchorSerialize, AnchorDeserialize, InitSpace, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Idle,
    Busy,
    Offline,
}

impl Node {
    /// Frees the node when its rental ends, whatever way it ends.
    pub fn release(&mut self) {
        self.current_rental = None;
        if self.status == NodeStatus::Busy {
            self.status = NodeStatus::Idle;
        }
    }
}
