//! The Calor provisioner: operators run one per GPU cluster. It will watch the program's
//! rentals, run instances through the Docker Engine API and record every transition
//! on-chain. So far it only knows the program it serves.
fn main() {
    let (config, _) = calor_client::pda::config();
    println!(
        "calor-provisioner {}: program {}, config {config}",
        env!("CARGO_PKG_VERSION"),
        calor_client::PROGRAM_ID
    );
    eprintln!("the reconcile loop is not implemented yet; nothing to do");
}
