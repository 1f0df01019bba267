use anchor_lang::prelude::*;

use crate::constants::{CONFIG_SEED, GPU_MODEL_SEED, MAX_NAME_LEN, MAX_SHORT_LEN};
use crate::errors::CalorError;
use crate::events::GpuModelChanged;
use crate::state::{Config, GpuModel};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct GpuModelArgs {
    pub name: String,
    pub architecture: String,
    pub vram_gb: u16,
    pub fp16_tflops: u32,
    pub active: bool,
}

impl GpuModelArgs {
    fn validate(&self) -> Result<()> {
        require!(
            valid_text(&self.name, MAX_NAME_LEN),
            CalorError::InvalidName
        );
        require!(
            valid_text(&self.architecture, MAX_SHORT_LEN),
            CalorError::InvalidName
        );
        Ok(())
    }

    fn apply(self, model: &mut GpuModel) {
        model.name = self.name;
        model.architecture = self.architecture;
        model.vram_gb = self.vram_gb;
        model.fp16_tflops = self.fp16_tflops;
        model.active = self.active;
    }
}

pub(crate) fn valid_text(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.len() <= max
}

#[derive(Accounts)]
#[instruction(id: u16)]
pub struct AddGpuModel<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump,
              has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: Box<Account<'info, Config>>,
    #[account(init, payer = authority, space = 8 + GpuModel::INIT_SPACE,
              seeds = [GPU_MODEL_SEED, &id.to_le_bytes()], bump)]
    pub gpu_model: Account<'info, GpuModel>,
    #[account(mut)]
    pub authority: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn add_handler(ctx: Context<AddGpuModel>, id: u16, args: GpuModelArgs) -> Result<()> {
    args.validate()?;
    let model = &mut ctx.accounts.gpu_model;
    model.id = id;
    model.bump = ctx.bumps.gpu_model;
    args.apply(model);
    emit_changed(model);
    Ok(())
}

#[derive(Accounts)]
pub struct UpdateGpuModel<'info> {
    #[account(seeds = [CONFIG_SEED], bump = config.bump,
              has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: Box<Account<'info, Config>>,
    #[account(mut, seeds = [GPU_MODEL_SEED, &gpu_model.id.to_le_bytes()], bump = gpu_model.bump)]
    pub gpu_model: Account<'info, GpuModel>,
    pub authority: Signer<'info>,
}

pub fn update_handler(ctx: Context<UpdateGpuModel>, args: GpuModelArgs) -> Result<()> {
    args.validate()?;
    let model = &mut ctx.accounts.gpu_model;
    args.apply(model);
    emit_changed(model);
    Ok(())
}

fn emit_changed(model: &Account<GpuModel>) {
    emit!(GpuModelChanged {
        gpu_model: model.key(),
        id: model.id,
        name: model.name.clone(),
        active: model.active,
    });
}
