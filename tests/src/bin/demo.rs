//! The local walk-through behind the README's first command: loads the built program into
//! an in-process SVM and runs the protocol's flow as far as it exists, narrating each step.
use calor::state::Config;
use calor_tests::fixtures::Protocol;
use calor_tests::spl::TokenProgram;
use calor_tests::{env::program_path, TestEnv};
use solana_signer::Signer;

fn step(n: u32, text: &str) {
    println!("\n\x1b[1m[{n}] {text}\x1b[0m");
}

fn main() {
    step(
        1,
        "load the program into a local SVM (LiteSVM, agave 4.3 runtime)",
    );
    let so = program_path();
    let mut env = TestEnv::new();
    println!(
        "    {} ({} bytes) deployed as {}",
        so.display(),
        std::fs::metadata(&so).map(|m| m.len()).unwrap_or(0),
        calor::ID
    );
    println!("    upgrade authority {}", env.upgrade_authority.pubkey());

    step(2, "create the Calor SPL mint");
    let protocol = Protocol::prepare(&mut env, TokenProgram::Token);
    println!("    mint {} (6 decimals)", protocol.calor_mint);

    step(
        3,
        "initialize the global config (signed by the upgrade authority)",
    );
    let tx = protocol.initialize(&mut env);
    let (address, _) = calor_client::pda::config();
    let config: Config = env.decode(&address);
    println!("    config {address}: {} compute units", tx.compute_units);
    println!("    treasury           {}", config.treasury);
    println!(
        "    protocol fee       {:.2}%",
        f64::from(config.params.protocol_fee_bps) / 100.0
    );
    println!(
        "    burn on Calor      {:.2}%",
        f64::from(config.params.burn_bps) / 100.0
    );
    println!(
        "    Calor subsidy      {:.2}%",
        f64::from(config.params.calor_subsidy_bps) / 100.0
    );
    println!(
        "    minimum rental     ${:.2}",
        config.params.min_rental_micro_usd as f64 / 1e6
    );
    println!(
        "    SOL/USD oracle     Pyth feed 0x{}, max age {} s, max confidence {:.2}%",
        hex(&config.params.sol_usd_oracle.feed_id),
        config.params.sol_usd_oracle.max_age_secs,
        f64::from(config.params.sol_usd_oracle.max_conf_bps) / 100.0
    );

    println!(
        "\nThe flow ends here for now: rentals, the local RPC chain and the provisioner come next."
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
