use anchor_lang::prelude::*;

use crate::constants::NODE_SEED;
use crate::errors::CalorError;
use crate::events::NodeChanged;
use crate::pda_accounts::{init_account, space_of, write_new};
use crate::state::{Config, GpuModel, Node, NodeStatus, Provider, Region};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct ListNodeArgs {
    pub gpu_count: u8,
    pub hourly_rate_micro_usd: u64,
}

/// An approved provider lists its next node.
///
/// Account proofs: `config`, `gpu_model`, `region` by owner and discriminator (they exist only
/// at their PDAs); `provider` by its `authority` being the signer; `node` is created at
/// `[NODE_SEED, provider, node_count]`.
#[derive(Accounts)]
pub struct ListNode<'info> {
    pub config: AccountLoader<'info, Config>,
    #[account(mut, has_one = authority @ CalorError::Unauthorized)]
    pub provider: AccountLoader<'info, Provider>,
    /// CHECK: created here at `[NODE_SEED, provider, node_count]`.
    #[account(mut)]
    pub node: UncheckedAccount<'info>,
    pub gpu_model: AccountLoader<'info, GpuModel>,
    pub region: AccountLoader<'info, Region>,
    #[account(mut)]
    pub authority: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<ListNode>, args: ListNodeArgs) -> Result<()> {
    let a = ctx.accounts;
    let mut provider = a.provider.load_mut()?;
    let gpu_model = a.gpu_model.load()?;
    let region = a.region.load()?;
    require!(!a.config.load()?.is_paused(), CalorError::Paused);
    require!(provider.is_approved(), CalorError::ProviderNotApproved);
    require!(gpu_model.is_active(), CalorError::GpuModelInactive);
    require!(region.is_active(), CalorError::RegionInactive);
    require!(args.gpu_count > 0, CalorError::ZeroGpuCount);
    require!(args.hourly_rate_micro_usd > 0, CalorError::ZeroRate);
    let provider_key = a.provider.key();
    let bump = init_account(
        &a.authority,
        &a.node,
        &a.system_program,
        &[
            NODE_SEED,
            provider_key.as_ref(),
            &provider.node_count.to_le_bytes(),
        ],
        space_of::<Node>(),
    )?;
    let node = Node {
        provider: a.provider.key(),
        authority: provider.authority,
        current_rental: Pubkey::default(),
        hourly_rate_micro_usd: args.hourly_rate_micro_usd,
        last_heartbeat: Clock::get()?.unix_timestamp,
        index: provider.node_count,
        gpu_model: gpu_model.id,
        region: region.id,
        gpu_count: args.gpu_count,
        status: NodeStatus::Idle as u8,
        bump,
        _padding: [0; 5],
    };
    write_new(&a.node, &node)?;
    provider.node_count = provider
        .node_count
        .checked_add(1)
        .ok_or(CalorError::MathOverflow)?;
    emit_node_changed(a.node.key(), &node);
    Ok(())
}

pub(crate) fn emit_node_changed(key: Pubkey, node: &Node) {
    emit!(NodeChanged {
        node: key,
        provider: node.provider,
        gpu_model: node.gpu_model,
        region: node.region,
        gpu_count: node.gpu_count,
        hourly_rate_micro_usd: node.hourly_rate_micro_usd,
        online: node.status() != NodeStatus::Offline,
    });
}
