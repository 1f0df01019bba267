use anchor_lang::prelude::*;

use crate::constants::{NODE_SEED, PROVIDER_SEED};
use crate::errors::CalorError;
use crate::events::NodeHeartbeat;
use crate::instructions::list_node::emit_node_changed;
use crate::state::{Node, NodeStatus, Provider};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateNodeArgs {
    /// New rate for rentals claimed from now on.
    pub hourly_rate_micro_usd: Option<u64>,
    /// Take the node offline (only while idle) or back online.
    pub online: Option<bool>,
}

/// The accounts of every instruction a provider signs for one of its nodes.
#[derive(Accounts)]
pub struct NodeOperator<'info> {
    #[account(seeds = [PROVIDER_SEED, authority.key().as_ref()], bump = provider.bump,
              has_one = authority @ CalorError::Unauthorized)]
    pub provider: Box<Account<'info, Provider>>,
    #[account(mut, seeds = [NODE_SEED, provider.key().as_ref(), &node.index.to_le_bytes()],
              bump = node.bump, has_one = provider @ CalorError::WrongNode)]
    pub node: Box<Account<'info, Node>>,
    pub authority: Signer<'info>,
}

impl NodeOperator<'_> {
    pub fn validate_update(&self, args: &UpdateNodeArgs) -> Result<()> {
        if let Some(rate) = args.hourly_rate_micro_usd {
            require!(rate > 0, CalorError::ZeroRate);
        }
        if args.online == Some(false) {
            require!(self.node.status != NodeStatus::Busy, CalorError::NodeBusy);
        }
        Ok(())
    }
}

pub fn update_handler(ctx: Context<NodeOperator>, args: UpdateNodeArgs) -> Result<()> {
    ctx.accounts.validate_update(&args)?;
    let node = &mut ctx.accounts.node;
    if let Some(rate) = args.hourly_rate_micro_usd {
        node.hourly_rate_micro_usd = rate;
    }
    match args.online {
        Some(false) => node.status = NodeStatus::Offline,
        Some(true) if node.status == NodeStatus::Offline => {
            node.status = NodeStatus::Idle;
            node.last_heartbeat = Clock::get()?.unix_timestamp;
        }
        _ => {}
    }
    emit_node_changed(node);
    Ok(())
}

/// Liveness signal. Allowed while paused: a pause must not make nodes look dead and let
/// their rentals be reclaimed.
pub fn heartbeat_handler(ctx: Context<NodeOperator>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let node = &mut ctx.accounts.node;
    node.last_heartbeat = now;
    emit!(NodeHeartbeat {
        node: node.key(),
        at: now
    });
    Ok(())
}
