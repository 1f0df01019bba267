use anchor_lang::prelude::*;

use crate::constants::{GPU_MODEL_SEED, MAX_NAME_LEN, MAX_SHORT_LEN};
use crate::errors::CalorError;
use crate::events::GpuModelChanged;
use crate::pda_accounts::{init_account, load_mut, space_of, write_new};
use crate::state::{write_fixed_str, Config, GpuModel};

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

    fn apply(&self, model: &mut GpuModel) {
        write_fixed_str(&mut model.name, &self.name);
        write_fixed_str(&mut model.architecture, &self.architecture);
        model.vram_gb = self.vram_gb;
        model.fp16_tflops = self.fp16_tflops;
        model.active = u8::from(self.active);
    }
}

/// Text that fits its fixed field and reads back unchanged (no NUL, which pads the field).
pub(crate) fn valid_text(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.len() <= max && !s.contains('\0')
}

/// The config authority adds GPU model `id` to the catalog, or updates it (retiring it with
/// `active: false`).
///
/// Account proofs: `config` by owner and discriminator, its `authority` signs; `gpu_model` is
/// created at, or must be, `[GPU_MODEL_SEED, id]`.
#[derive(Accounts)]
pub struct SetGpuModel<'info> {
    #[account(has_one = authority @ CalorError::NotConfigAuthority)]
    pub config: AccountLoader<'info, Config>,
    /// CHECK: created here at `[GPU_MODEL_SEED, id]`, or that existing model (`load_mut`
    /// checks owner and discriminator, the handler its id).
    #[account(mut)]
    pub gpu_model: UncheckedAccount<'info>,
    #[account(mut)]
    pub authority: Signer<'info>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<SetGpuModel>, id: u16, args: GpuModelArgs) -> Result<()> {
    args.validate()?;
    let a = ctx.accounts;
    if a.gpu_model.data_is_empty() {
        let bump = init_account(
            &a.authority,
            &a.gpu_model,
            &a.system_program,
            &[GPU_MODEL_SEED, &id.to_le_bytes()],
            space_of::<GpuModel>(),
        )?;
        let mut model = GpuModel {
            id,
            bump,
            ..bytemuck::Zeroable::zeroed()
        };
        args.apply(&mut model);
        write_new(&a.gpu_model, &model)?;
        emit_changed(a.gpu_model.key(), &model);
        return Ok(());
    }
    let mut model = load_mut::<GpuModel>(&a.gpu_model)?;
    require!(model.id == id, CalorError::WrongAddress);
    args.apply(&mut model);
    emit_changed(a.gpu_model.key(), &model);
    Ok(())
}

fn emit_changed(key: Pubkey, model: &GpuModel) {
    emit!(GpuModelChanged {
        gpu_model: key,
        id: model.id,
        name: model.name().to_string(),
        active: model.is_active(),
    });
}
