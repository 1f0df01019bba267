//! `calor-localnet`: an offline Solana JSON-RPC + websocket node (surfpool-core / LiteSVM) with
//! programs preloaded, for development, the provisioner's tests and the demo.
//!
//! ```text
//! calor-localnet [--host 127.0.0.1] [--rpc-port 8899] [--ws-port 8900] [--slot-time-ms 400]
//!                [--block-production clock|transaction|manual]
//!                [--upgrade-authority <PUBKEY>] [--program <PROGRAM_ID>=<path/to/program.so>]...
//!                [--airdrop <PUBKEY>]... [--airdrop-lamports N] [--quiet]
//! ```
//! Prints `localnet ready: <rpc url> <ws url>` on stderr once serving; stops on SIGINT/SIGTERM.
//! Surfnet's cheat codes (`surfnet_timeTravel`, `surfnet_setAccount`, ...) are served too: tests
//! use them to move the clock past a rental's end.
use std::{collections::BTreeMap, time::Instant};

use base64::{prelude::BASE64_STANDARD, Engine};
use solana_pubkey::Pubkey;
use surfpool_core::surfnet::svm::{SurfnetSvm, SurfnetSvmConfig};
use surfpool_types::{
    channel, AccountSnapshot, BlockProductionMode, RpcConfig, SimnetCommand, SimnetConfig,
    SimnetEvent, SurfpoolConfig,
};

const UPGRADEABLE_LOADER: Pubkey =
    Pubkey::from_str_const("BPFLoaderUpgradeab1e11111111111111111111111");
const SYSTEM_PROGRAM: Pubkey = Pubkey::from_str_const("11111111111111111111111111111111");

/// Rent-exempt minimum under the default rent (3,480 lamports per byte-year, two years).
fn rent_exempt_lamports(data_len: usize) -> u64 {
    (data_len as u64 + 128) * 6_960
}

/// The Program and ProgramData accounts of an upgradeable-loader deployment, in the loader's
/// bincode layout, as they would be after `solana program deploy`.
fn preload_program(
    snapshot: &mut BTreeMap<String, Option<AccountSnapshot>>,
    program_id: Pubkey,
    upgrade_authority: Pubkey,
    elf: &[u8],
) {
    let program_data = solana_loader_v3_interface::get_program_data_address(&program_id);
    let mut data_account = Vec::with_capacity(45 + elf.len());
    data_account.extend_from_slice(&3u32.to_le_bytes()); // UpgradeableLoaderState::ProgramData
    data_account.extend_from_slice(&0u64.to_le_bytes()); // deployment slot
    data_account.push(1); // upgrade authority: Some
    data_account.extend_from_slice(upgrade_authority.as_ref());
    data_account.extend_from_slice(elf);
    let mut program_account = 2u32.to_le_bytes().to_vec(); // UpgradeableLoaderState::Program
    program_account.extend_from_slice(program_data.as_ref());

    let account = |data: Vec<u8>, executable| AccountSnapshot {
        lamports: rent_exempt_lamports(data.len()),
        owner: UPGRADEABLE_LOADER.to_string(),
        executable,
        rent_epoch: 0,
        data: BASE64_STANDARD.encode(&data),
        parsed_data: None,
    };
    snapshot.insert(program_data.to_string(), Some(account(data_account, false)));
    snapshot.insert(program_id.to_string(), Some(account(program_account, true)));
}

struct Options {
    rpc: RpcConfig,
    simnet: SimnetConfig,
    quiet: bool,
}

fn parse_args() -> Result<Options, Box<dyn std::error::Error>> {
    let mut rpc = RpcConfig::default();
    let mut simnet = SimnetConfig::default();
    // Never fork from a remote cluster: the default config reads accounts from mainnet.
    simnet.offline_mode = true;
    simnet.remote_rpc_url = None;
    simnet.block_production_mode = BlockProductionMode::Clock;
    simnet.slot_time = 400;
    simnet.airdrop_token_amount = 1_000_000_000_000;
    let mut quiet = false;
    // Programs whose upgrade authority nobody holds unless one is given (the program's
    // `initialize` must be signed by its upgrade authority).
    let mut upgrade_authority = SYSTEM_PROGRAM;

    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--host" => rpc.bind_host = value()?,
            "--rpc-port" => rpc.bind_port = value()?.parse()?,
            "--ws-port" => rpc.ws_port = value()?.parse()?,
            "--slot-time-ms" => simnet.slot_time = value()?.parse()?,
            "--block-production" => {
                simnet.block_production_mode = match value()?.as_str() {
                    "clock" => BlockProductionMode::Clock,
                    "transaction" => BlockProductionMode::Transaction,
                    "manual" => BlockProductionMode::Manual,
                    other => return Err(format!("unknown block production mode {other}").into()),
                }
            }
            "--airdrop" => simnet.airdrop_addresses.push(value()?.parse()?),
            "--airdrop-lamports" => simnet.airdrop_token_amount = value()?.parse()?,
            "--upgrade-authority" => upgrade_authority = value()?.parse()?,
            "--program" => {
                let spec = value()?;
                let (id, path) = spec.split_once('=').ok_or("--program expects ID=PATH")?;
                let elf = std::fs::read(path).map_err(|e| format!("reading {path}: {e}"))?;
                preload_program(&mut simnet.snapshot, id.parse()?, upgrade_authority, &elf);
            }
            "-q" | "--quiet" => quiet = true,
            "-h" | "--help" => {
                eprintln!("{}", include_str!("main.rs").lines().take(10).collect::<Vec<_>>().join("\n"));
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    Ok(Options { rpc, simnet, quiet })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let Options { rpc, simnet, quiet } = parse_args()?;
    let svm_config = SurfnetSvmConfig { slot_time: simnet.slot_time, ..SurfnetSvmConfig::default() };
    let config = SurfpoolConfig { simnets: vec![simnet], rpc: rpc.clone(), ..SurfpoolConfig::default() };
    let (svm, events_rx, geyser_rx) = SurfnetSvm::new(svm_config)?;
    let (cmd_tx, cmd_rx) = channel::unbounded::<SimnetCommand>();

    let node_cmd_tx = cmd_tx.clone();
    let node = std::thread::Builder::new().name("surfnet".into()).spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
        let served = surfpool_core::start_local_surfnet(svm, config, node_cmd_tx, cmd_rx, geyser_rx);
        if let Err(e) = runtime.block_on(served) {
            eprintln!("localnet: surfnet stopped with an error: {e}");
            std::process::exit(1);
        }
    })?;

    // The events channel is bounded and the node blocks when it is full: always drain it.
    std::thread::Builder::new().name("events".into()).spawn(move || {
        for event in events_rx.iter() {
            match event {
                SimnetEvent::CoreStarted(_) => eprintln!(
                    "localnet ready: http://{} ws://{} ({} ms)",
                    rpc.get_rpc_base_url(),
                    rpc.get_ws_base_url(),
                    started.elapsed().as_millis()
                ),
                SimnetEvent::Aborted(e) => eprintln!("localnet: aborted: {e}"),
                SimnetEvent::ErrorLog(_, m) => eprintln!("localnet: error: {m}"),
                SimnetEvent::WarnLog(_, m) if !quiet => eprintln!("localnet: warn: {m}"),
                SimnetEvent::InfoLog(_, m) if !quiet => eprintln!("localnet: {m}"),
                _ => {}
            }
        }
    })?;

    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = terminate.recv() => {} }
    });
    eprintln!("localnet: shutting down");
    let _ = cmd_tx.send(SimnetCommand::Terminate(None));
    let _ = node.join();
    Ok(())
}
