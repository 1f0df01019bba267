//! Compute units per instruction of the real calor.so, printed as a table.
//! Run: cargo bench -p calor-tests --ignore-rust-version --bench compute_units
use calor_tests::fixtures::Protocol;
use calor_tests::spl::TokenProgram;
use calor_tests::TestEnv;

fn main() {
    let mut rows: Vec<(&str, u64)> = Vec::new();

    let mut env = TestEnv::new();
    let protocol = Protocol::prepare(&mut env, TokenProgram::Token);
    rows.push(("initialize", protocol.initialize(&mut env).compute_units));

    let so = std::fs::metadata(calor_tests::env::program_path())
        .map(|m| m.len())
        .unwrap_or(0);
    println!("calor.so: {so} bytes; runtime: LiteSVM 0.17 (agave 4.3)\n");
    println!("| instruction | compute units |");
    println!("|---|---:|");
    for (name, cu) in rows {
        println!("| {name} | {cu} |");
    }
}
