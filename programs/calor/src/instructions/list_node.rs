use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, GPU_MODEL_SEED, NODE_SEED, PROVIDER_SEED, REGION_SEED};
use crate::errors::CalorError;
use crate::events::NodeChanged;
use crate::state::{Config, GpuModel, Node, NodeStatus, Provider, Region};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ListNodeArgs {
    pub gpu_count: u8,
    pub hourly_rate_micro_usd: u64,
}

#[derive(Accounts)]
pub struct ListNode<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [PROVIDER_SEED, authority.key().as_ref()], bump = provider.bump,
              has_one = authority @ CalorError::Unauthorized)]
    pub provider: Box<Account<'info, Provider>>,
    #[account(init, payer = authority, space = 8 + Node::INIT_SPACE,
              seeds = [NODE_SEED, provider.key().as_ref(), &provider.node_count.to_le_bytes()],
              bump)]
    pub node: Box<Account<'info, Node>>,
    #[account(seeds = [GPU_MODEL_SEED, &gpu_model.id.to_le_bytes()], bump = gpu_model.bump)]
    pub gpu_model: Box<Account<'info, GpuModel>>,
    #[account(seeds = [REGION_SEED, &region.id.to_le_bytes()], bump = region.bump)]
    pub region: Box<Account<'info, Region>>,
    #[account(mut)]
    pub authority: Signer<'info>,
    pub system_program: Program<'info, System>,
}

impl ListNode<'_> {
    pub fn validate(&self, args: &ListNodeArgs) -> Result<()> {
        require!(!self.config.paused, CalorError::Paused);
        require!(self.provider.approved, CalorError::ProviderNotApproved);
        require!(self.gpu_model.active, CalorError::GpuModelInactive);
        require!(self.region.active, CalorError::RegionInactive);
        require!(args.gpu_count > 0, CalorError::ZeroGpuCount);
        require!(args.hourly_rate_micro_usd > 0, CalorError::ZeroRate);
        Ok(())
    }
}

pub fn handler(ctx: Context<ListNode>, args: ListNodeArgs) -> Result<()> {
    ctx.accounts.validate(&args)?;
    let now = Clock::get()?.unix_timestamp;
    let provider = &mut ctx.accounts.provider;
    let node = &mut ctx.accounts.node;
    node.set_inner(Node {
        provider: provider.key(),
        index: provider.node_count,
        gpu_model: ctx.accounts.gpu_model.id,
        region: ctx.accounts.region.id,
        gpu_count: args.gpu_count,
        hourly_rate_micro_usd: args.hourly_rate_micro_usd,
        status: NodeStatus::Idle,
        current_rental: None,
        last_heartbeat: now,
        bump: ctx.bumps.node,
    });
    provider.node_count = provider
        .node_count
        .checked_add(1)
        .ok_or(CalorError::MathOverflow)?;
    emit_node_changed(node);
    Ok(())
}

pub(crate) fn emit_node_changed(node: &Account<Node>) {
    emit!(NodeChanged {
        node: node.key(),
        provider: node.provider,
        gpu_model: node.gpu_model,
        region: node.region,
        gpu_count: node.gpu_count,
        hourly_rate_micro_usd: node.hourly_rate_micro_usd,
        online: node.status != NodeStatus::Offline,
    });
}
