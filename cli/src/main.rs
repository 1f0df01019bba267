//! `calor`: rent GPUs on Calor from the terminal. Every transaction is built here (through
//! `calor_client::sdk`), signed with the keypair and sent to the cluster's RPC node, so the
//! CLI rents, extends and stops with no Calor server up. Reads come from the chain too.
mod show;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use calor_client::sdk::{
    read_keypair, Calor, Cluster, Compute, ErrorKind, Job, JobState, Pay, SdkError,
};
use calor_client::Pubkey;
use clap::{CommandFactory, Parser, Subcommand};
use futures_util::StreamExt;

const EXAMPLES: &str = "\
Examples:
  calor gpus
  calor quote --gpu h100-pcie --hours 4
  calor rent --gpu h100-pcie --hours 4 --region eu-west --ssh-key ~/.ssh/id_ed25519.pub
  calor jobs --json
  calor ssh <JOB>
  calor stop <JOB>

Exit codes: 0 ok, 1 declined or other, 2 bad input, 3 nothing available now,
4 insufficient funds, 5 no such job, 6 network, 7 rejected by the program.";

#[derive(Parser)]
#[command(
    name = "calor",
    version,
    about = "Rent GPUs on Calor, paid on Solana, from the terminal",
    after_help = EXAMPLES
)]
struct Cli {
    /// The keypair that signs (a Solana CLI key file).
    #[arg(
        long,
        global = true,
        env = "CALOR_KEYPAIR",
        default_value = "~/.config/solana/id.json"
    )]
    keypair: String,
    /// localnet, devnet, mainnet-beta, or an RPC URL.
    #[arg(
        long,
        short = 'u',
        global = true,
        env = "CALOR_CLUSTER",
        default_value = "localnet"
    )]
    cluster: String,
    /// The SOL/USD price account, when not the cluster's usual one.
    #[arg(long, global = true, env = "CALOR_SOL_USD_ACCOUNT", hide = true)]
    sol_usd_account: Option<String>,
    /// Print JSON for scripts instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct RentArgs {
    /// The GPU model, as `calor gpus` names it (h100-pcie) or its id.
    #[arg(long)]
    gpu: String,
    /// Hours to buy (the total must reach the $5 minimum).
    #[arg(long)]
    hours: u32,
    /// Pin a region (eu-west); the nearest with capacity otherwise.
    #[arg(long)]
    region: Option<String>,
    /// sol, or calor (subsidised, part burned).
    #[arg(long, default_value = "sol")]
    pay: Pay,
    /// The most to pay per hour in USD.
    #[arg(long)]
    max_hourly_usd: Option<f64>,
}

impl RentArgs {
    fn compute(&self, ssh_key: Option<String>) -> Compute {
        let mut c = Compute::new(&self.gpu, self.hours).pay(self.pay);
        c.region = self.region.clone();
        c.ssh_key = ssh_key;
        c.max_hourly_usd = self.max_hourly_usd;
        c
    }
}

#[derive(Subcommand)]
enum Command {
    /// GPU models: idle / online nodes per region, $/h at market and with Calor.
    Gpus,
    /// What a rental costs now, and whether the wallet can pay it.
    Quote(RentArgs),
    /// Rent: quote, confirm, sign, then follow it to running and say how to connect.
    Rent {
        #[command(flatten)]
        rent: RentArgs,
        /// An OpenSSH public key file to log in with (web terminal only without one).
        #[arg(long)]
        ssh_key: Option<String>,
        /// Do not ask before signing.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// The wallet's open jobs; with --all, every job it opened (read from its transactions).
    Jobs {
        #[arg(long)]
        all: bool,
    },
    /// One job: state, times, money and settlement.
    Job { id: String },
    /// Follow a job's state until it is settled.
    Watch { id: String },
    /// Buy more hours of a running job.
    Extend {
        id: String,
        #[arg(long)]
        hours: u32,
    },
    /// Stop a job and settle it: provider pay, fee, burn and refund.
    Stop { id: String },
    /// Pay a held Calor refund into the wallet.
    ClaimRefund { id: String },
    /// SSH into a running job (rented with --ssh-key), or run COMMAND there.
    Ssh {
        id: String,
        /// The private key to log in with (ssh's own default otherwise).
        #[arg(long, short = 'i')]
        identity: Option<String>,
        /// An ssh option (`-o StrictHostKeyChecking=no`), repeatable.
        #[arg(long = "option", short = 'o')]
        options: Vec<String>,
        /// A command to run instead of a login shell.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// The job's web terminal in this terminal (raw mode, follows resizes).
    Terminal {
        id: String,
        /// Run this command, print its output and exit.
        #[arg(long)]
        run: Option<String>,
    },
    /// Jupyter's URL with its secret, for a job whose image serves it.
    Jupyter { id: String },
    /// Stake Calor (whole or fractional Calor).
    Stake { amount: String },
    /// Unstake Calor.
    Unstake { amount: String },
    /// Claim staking rewards.
    Claim,
    /// Your stake, rewards waiting and priority tier.
    Rewards,
    /// The network now: nodes, GPUs busy, compute online.
    Network,
    /// The wallet's address and balances.
    Balance,
    /// Shell completions: `calor completions bash > /etc/bash_completion.d/calor`.
    Completions { shell: clap_complete::Shell },
}

/// A failure and the exit code it maps to.
struct Failure {
    message: String,
    code: u8,
}

impl From<SdkError> for Failure {
    fn from(e: SdkError) -> Self {
        let code = match e.kind() {
            ErrorKind::Invalid => 2,
            ErrorKind::Unavailable => 3,
            ErrorKind::Funds => 4,
            ErrorKind::NotFound => 5,
            ErrorKind::Network => 6,
            ErrorKind::Rejected => 7,
        };
        Failure {
            message: e.to_string(),
            code,
        }
    }
}

fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        code,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn client(cli: &Cli) -> Result<Calor, Failure> {
    let cluster: Cluster = cli.cluster.parse()?;
    let keypair = read_keypair(&cli.keypair).map_err(|e| {
        fail(
            2,
            format!(
                "{e}\n  make one with `solana-keygen new`, or pass --keypair FILE / CALOR_KEYPAIR"
            ),
        )
    })?;
    let mut calor = Calor::new(keypair, cluster);
    if let Some(account) = &cli.sol_usd_account {
        let account: Pubkey = account.parse().map_err(|_| {
            fail(
                2,
                format!("--sol-usd-account {account:?} is not an address"),
            )
        })?;
        calor = calor.with_sol_usd_account(account);
    }
    Ok(calor)
}

fn print_json(value: &impl serde::Serialize) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serialisable")
    );
}

/// Calor as base units (6 decimals on every Calor mint so far: read from the chain).
fn calor_units(text: &str, decimals: u8) -> Result<u64, Failure> {
    let bad = || fail(2, format!("{text:?} is not an amount of Calor"));
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > usize::from(decimals) || (whole.is_empty() && fraction.is_empty()) {
        return Err(bad());
    }
    let scale = 10u64.pow(u32::from(decimals));
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let padded = format!("{fraction:0<width$}", width = usize::from(decimals));
    let fraction: u64 = if padded.is_empty() {
        0
    } else {
        padded.parse().map_err(|_| bad())?
    };
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)
}

async fn run(cli: Cli) -> Result<(), Failure> {
    if let Command::Completions { shell } = &cli.command {
        clap_complete::generate(*shell, &mut Cli::command(), "calor", &mut std::io::stdout());
        return Ok(());
    }
    let calor = client(&cli)?;
    let json = cli.json;
    match &cli.command {
        Command::Gpus => {
            let gpus = calor.gpus().await?;
            if json {
                print_json(&gpus);
            } else {
                show::gpus(&gpus);
            }
        }
        Command::Quote(args) => {
            let offered = calor.quote(&args.compute(None)).await?;
            if json {
                print_json(&offered);
            } else {
                show::quote(&offered);
            }
        }
        Command::Rent { rent, ssh_key, yes } => {
            let key = ssh_key
                .as_ref()
                .map(|path| {
                    std::fs::read_to_string(path)
                        .map(|k| k.trim().to_string())
                        .map_err(|e| fail(2, format!("cannot read the SSH key {path}: {e}")))
                })
                .transpose()?;
            let request = rent.compute(key);
            let offered = calor.quote(&request).await?;
            if !json {
                show::quote(&offered);
            }
            if !yes {
                if !std::io::stdin().is_terminal() {
                    return Err(fail(2, "not asking without a terminal: pass --yes to rent"));
                }
                eprint!("Sign and rent? [y/N] ");
                let _ = std::io::stderr().flush();
                let mut answer = String::new();
                let _ = std::io::stdin().read_line(&mut answer);
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    return Err(fail(1, "not rented: nothing was signed"));
                }
            }
            let progress = |job: &Job| {
                if !json {
                    eprint!("\r{}: {:<13}", job.id, job.state.to_string());
                    let _ = std::io::stderr().flush();
                }
            };
            let rented = calor.compute_with_progress(&request, progress).await?;
            if rented.job.state != JobState::Running {
                if json {
                    print_json(&serde_json::json!({ "rented": rented }));
                } else {
                    eprintln!();
                }
                return Err(fail(
                    3,
                    format!(
                        "job {} is {}: no provider started it; `calor stop {}` settles it and returns the payment",
                        rented.job.id, rented.job.state, rented.job.id
                    ),
                ));
            }
            if json {
                let connect = calor.jobs().connect(&rented.job.id).await.ok();
                print_json(&serde_json::json!({ "rented": rented, "connect": connect }));
            } else {
                eprintln!();
                show::rented(&calor, &rented).await;
            }
        }
        Command::Jobs { all } => {
            let jobs = if *all {
                calor.jobs().history().await?
            } else {
                calor.jobs().list().await?
            };
            if json {
                print_json(&jobs);
            } else {
                show::jobs(&jobs);
            }
        }
        Command::Job { id } => {
            let job = calor.jobs().get(id).await?;
            if json {
                print_json(&job);
            } else {
                show::job(&job);
            }
        }
        Command::Watch { id } => {
            let jobs = calor.jobs();
            let mut states = std::pin::pin!(jobs.watch(id));
            while let Some(job) = states.next().await {
                let job = job?;
                if json {
                    println!("{}", serde_json::to_string(&job).expect("serialisable"));
                } else {
                    println!("{} {}", show::now(), job.state);
                }
            }
        }
        Command::Extend { id, hours } => {
            let job = calor.jobs().extend(id, *hours).await?;
            if json {
                print_json(&job);
            } else {
                println!(
                    "Extended by {hours} h: {} h in all, ends {}",
                    job.hours,
                    job.ends_at.map_or("-".into(), show::time)
                );
            }
        }
        Command::Stop { id } => {
            let settlement = calor.jobs().stop(id).await?;
            if json {
                print_json(&settlement);
            } else {
                show::settlement(&settlement);
            }
        }
        Command::ClaimRefund { id } => {
            let signature = calor.jobs().claim_refund(id).await?;
            if json {
                print_json(&serde_json::json!({ "signature": signature }));
            } else {
                println!("Refund claimed: {signature}");
            }
        }
        Command::Ssh {
            id,
            identity,
            options,
            command,
        } => {
            let connect = calor.jobs().connect(id).await?;
            // a rental opened without a key has sshd but no key that logs in
            let (Some(host), Some(port), Some(_)) =
                (connect.ssh_host, connect.ssh_port, connect.ssh_command)
            else {
                return Err(fail(
                    2,
                    format!("job {id} has no SSH (rented without --ssh-key?): `calor terminal {id}` opens its web terminal"),
                ));
            };
            let mut ssh = std::process::Command::new("ssh");
            ssh.args(["-p", &port.to_string()]);
            if let Some(identity) = identity {
                ssh.args(["-i", identity]);
            }
            for option in options {
                ssh.args(["-o", option]);
            }
            let status = ssh
                .arg(format!("root@{host}"))
                .args(command)
                .status()
                .map_err(|e| fail(1, format!("cannot run ssh: {e}")))?;
            if !status.success() {
                return Err(fail(
                    status.code().map_or(1, |c| c.clamp(1, 255) as u8),
                    format!("ssh exited with {status}"),
                ));
            }
        }
        Command::Terminal { id, run } => {
            let connect = calor.jobs().connect(id).await?;
            let rental = calor.jobs().address(id)?;
            let closed = calor_client::sdk::terminal::terminal(
                calor.signer(),
                &connect.endpoint,
                &rental,
                run.as_deref(),
            )
            .await?;
            if closed.code != 1000 {
                return Err(fail(
                    6,
                    format!("the terminal closed: {} {}", closed.code, closed.reason),
                ));
            }
        }
        Command::Jupyter { id } => {
            let connect = calor.jobs().connect(id).await?;
            let rental = calor.jobs().address(id)?;
            let url =
                calor_client::sdk::terminal::jupyter(calor.signer(), &connect.endpoint, &rental)
                    .await?;
            if json {
                print_json(&serde_json::json!({ "url": url }));
            } else {
                println!("{url}");
            }
        }
        Command::Stake { amount } | Command::Unstake { amount } => {
            let units = calor_units(amount, calor.calor_decimals().await?)?;
            let staking = matches!(cli.command, Command::Stake { .. });
            let signature = if staking {
                calor.stake(units).await?
            } else {
                calor.unstake(units).await?
            };
            if json {
                print_json(&serde_json::json!({ "amount": units, "signature": signature }));
            } else {
                let verb = if staking { "Staked" } else { "Unstaked" };
                println!("{verb} {amount} Calor: {signature}");
            }
        }
        Command::Claim => {
            let (amount, signature) = calor.claim().await?;
            if json {
                print_json(&serde_json::json!({ "amount": amount, "signature": signature }));
            } else {
                let decimals = calor.calor_decimals().await?;
                println!(
                    "Claimed {}: {signature}",
                    calor_client::sdk::Unit::Calor { decimals }.amount(amount)
                );
            }
        }
        Command::Rewards => {
            let rewards = calor.rewards().await?;
            if json {
                print_json(&rewards);
            } else {
                show::rewards(&rewards);
            }
        }
        Command::Network => {
            let network = calor.network().await?;
            if json {
                print_json(&network);
            } else {
                show::network(&network);
            }
        }
        Command::Balance => {
            let (sol, tokens) = calor.balances().await?;
            let decimals = calor.calor_decimals().await?;
            if json {
                print_json(&serde_json::json!({
                    "wallet": calor.wallet().to_string(), "lamports": sol, "calorBaseUnits": tokens,
                }));
            } else {
                println!("{}", calor.wallet());
                println!("{}", calor_client::sdk::Unit::Sol.amount(sol));
                println!(
                    "{}",
                    calor_client::sdk::Unit::Calor { decimals }.amount(tokens)
                );
            }
        }
        Command::Completions { .. } => unreachable!("handled before the keypair is read"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calor_amounts_parse_to_base_units() {
        assert_eq!(calor_units("1500", 6).ok(), Some(1_500_000_000));
        assert_eq!(calor_units("0.5", 6).ok(), Some(500_000));
        assert_eq!(calor_units(".000001", 6).ok(), Some(1));
        assert!(calor_units("0.0000001", 6).is_err());
        assert!(calor_units("1,5", 6).is_err());
        assert!(calor_units("", 6).is_err());
        assert!(calor_units("99999999999999999999", 6).is_err());
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
