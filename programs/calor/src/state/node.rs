use anchor_lang::prelude::*;

use crate::errors::CalorError;

/// One rentable machine (a GPU offer). PDA: `[NODE_SEED, provider, index]`.
///
/// Zero-copy (`repr(C)`, no implicit padding: the bytes are also its Borsh encoding): claim,
/// start, heartbeats and every exit touch it.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Node {
    pub provider: Pubkey,
    /// The provider's signing key, copied at listing so that instructions signed for the node
    /// prove the signer without loading the provider.
    pub authority: Pubkey,
    /// The rental it serves while busy; the default address otherwise.
    pub current_rental: Pubkey,
    /// Price of the whole node for one hour, in micro-USD.
    pub hourly_rate_micro_usd: u64,
    pub last_heartbeat: i64,
    pub index: u32,
    pub gpu_model: u16,
    pub region: u16,
    pub gpu_count: u8,
    /// A [`NodeStatus`].
    pub status: u8,
    pub bump: u8,
    pub _padding: [u8; 5],
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeStatus {
    Idle,
    Busy,
    Offline,
}

impl NodeStatus {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Idle),
            1 => Some(Self::Busy),
            2 => Some(Self::Offline),
            _ => None,
        }
    }
}

impl Node {
    pub fn status(&self) -> NodeStatus {
        // Only the program writes the field, always from a `NodeStatus`.
        NodeStatus::from_u8(self.status).unwrap_or(NodeStatus::Offline)
    }

    pub fn set_status(&mut self, status: NodeStatus) {
        self.status = status as u8;
    }

    pub fn current_rental(&self) -> Option<Pubkey> {
        (self.current_rental != Pubkey::default()).then_some(self.current_rental)
    }

    /// Frees the node when its rental ends, whatever way it ends.
    pub fn release(&mut self) {
        self.current_rental = Pubkey::default();
        if self.status() == NodeStatus::Busy {
            self.set_status(NodeStatus::Idle);
        }
    }

    /// The node's heartbeat is recent enough for it to take work.
    pub fn require_live(&self, now: i64, timeout_secs: u32) -> Result<()> {
        require!(
            now.saturating_sub(self.last_heartbeat) <= i64::from(timeout_secs),
            CalorError::NodeHeartbeatStale
        );
        Ok(())
    }
}
