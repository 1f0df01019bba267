use anchor_lang::prelude::*;

use crate::errors::CalorError;
use crate::events::NodeHeartbeat;
use crate::instructions::list_node::emit_node_changed;
use crate::instructions::provider_rental::require_operator;
use crate::state::{Node, NodeStatus};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateNodeArgs {
    /// New rate for rentals claimed from now on.
    pub hourly_rate_micro_usd: Option<u64>,
    /// Take the node offline (only while idle) or back online (also after a reclaim).
    pub online: Option<bool>,
}

/// The accounts of every instruction a provider signs for one of its nodes: the node (by
/// owner and discriminator) and its `authority` as signer.
#[derive(Accounts)]
pub struct NodeOperator<'info> {
    #[account(mut)]
    pub node: AccountLoader<'info, Node>,
    pub authority: Signer<'info>,
}

pub fn update_handler(ctx: Context<NodeOperator>, args: UpdateNodeArgs) -> Result<()> {
    let mut node = ctx.accounts.node.load_mut()?;
    require_operator(&node, &ctx.accounts.authority)?;
    if let Some(rate) = args.hourly_rate_micro_usd {
        require!(rate > 0, CalorError::ZeroRate);
        node.hourly_rate_micro_usd = rate;
    }
    match args.online {
        Some(false) => {
            require!(node.status() != NodeStatus::Busy, CalorError::NodeBusy);
            node.set_status(NodeStatus::Offline);
        }
        Some(true) if node.status() == NodeStatus::Offline => {
            node.set_status(NodeStatus::Idle);
            node.last_heartbeat = Clock::get()?.unix_timestamp;
        }
        _ => {}
    }
    emit_node_changed(ctx.accounts.node.key(), &node);
    Ok(())
}

/// Liveness signal. Allowed while paused: a pause must not make nodes look dead and let
/// their rentals be reclaimed.
pub fn heartbeat_handler(ctx: Context<NodeOperator>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let mut node = ctx.accounts.node.load_mut()?;
    require_operator(&node, &ctx.accounts.authority)?;
    node.last_heartbeat = now;
    emit!(NodeHeartbeat {
        node: ctx.accounts.node.key(),
        at: now
    });
    Ok(())
}
