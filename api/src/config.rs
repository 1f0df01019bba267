//! Settings from a TOML file (`--config`), the environment (`CALOR_API_*`) and flags, in
//! rising precedence.
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;

use crate::auth::{AuthSettings, MAX_ACCESS_TTL};
use crate::jobs::JobSettings;
use crate::limits::Rate;

#[derive(Debug, Parser, Default)]
#[command(name = "calor-api", about = "The Calor renter API")]
pub struct Flags {
    /// A TOML file with any of the settings below (snake_case keys).
    #[arg(long, env = "CALOR_API_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "CALOR_API_LISTEN")]
    pub listen: Option<String>,
    /// `sqlite://PATH` (default `.calor/api.db`) or `postgres://…`.
    #[arg(long, env = "CALOR_API_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The app's origin, allowed by CORS and whose host sign-ins are bound to.
    #[arg(long, env = "CALOR_API_APP_ORIGIN")]
    pub app_origin: Option<String>,
    /// This API's public URI, bound into sign-in messages.
    #[arg(long, env = "CALOR_API_PUBLIC_URI")]
    pub public_uri: Option<String>,
    /// `solana:mainnet`, `solana:devnet` or `solana:localnet`.
    #[arg(long, env = "CALOR_API_CHAIN_ID")]
    pub chain_id: Option<String>,
    /// Access token lifetime (at most 3600).
    #[arg(long, env = "CALOR_API_ACCESS_TTL_SECS")]
    pub access_ttl_secs: Option<u64>,
    #[arg(long, env = "CALOR_API_REFRESH_TTL_SECS")]
    pub refresh_ttl_secs: Option<u64>,
    /// How long a sign-in challenge may be answered.
    #[arg(long, env = "CALOR_API_CHALLENGE_TTL_SECS")]
    pub challenge_ttl_secs: Option<u64>,
    /// Calls a minute from one client address (all of `/api`).
    #[arg(long, env = "CALOR_API_RATE_PER_ADDRESS")]
    pub rate_per_address: Option<u32>,
    /// Calls a minute from one signed-in wallet.
    #[arg(long, env = "CALOR_API_RATE_PER_WALLET")]
    pub rate_per_wallet: Option<u32>,
    /// Take client addresses from `X-Forwarded-For` (only behind a proxy that sets it).
    #[arg(long, env = "CALOR_API_TRUST_FORWARDED_FOR")]
    pub trust_forwarded_for: Option<bool>,
    /// The chain's JSON-RPC URL.
    #[arg(long, env = "CALOR_API_RPC_URL")]
    pub rpc_url: Option<String>,
    /// The chain's websocket URL (default: the RPC URL's port + 1, as `solana-test-validator`).
    #[arg(long, env = "CALOR_API_WS_URL")]
    pub ws_url: Option<String>,
    /// The SOL/USD Pyth `PriceUpdateV2` account quotes and opens use.
    #[arg(long, env = "CALOR_API_SOL_USD_PRICE_ACCOUNT")]
    pub sol_usd_price_account: Option<String>,
    /// How often the indexer asks for new transactions.
    #[arg(long, env = "CALOR_API_INDEX_POLL_MS")]
    pub index_poll_ms: Option<u64>,
    /// How often the catalog, providers, prices and stake pool are re-read.
    #[arg(long, env = "CALOR_API_MARKET_REFRESH_MS")]
    pub market_refresh_ms: Option<u64>,
    /// Priority fee of built transactions, micro-lamports a compute unit.
    #[arg(long, env = "CALOR_API_PRIORITY_FEE")]
    pub priority_fee_micro_lamports: Option<u64>,
    /// Open rentals a wallet may have with no stake and no history.
    #[arg(long, env = "CALOR_API_QUOTA_BASE")]
    pub quota_base: Option<u32>,
    /// Rebuild the index from the chain before serving.
    #[arg(long)]
    pub reindex: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    database_url: Option<String>,
    app_origin: Option<String>,
    public_uri: Option<String>,
    chain_id: Option<String>,
    access_ttl_secs: Option<u64>,
    refresh_ttl_secs: Option<u64>,
    challenge_ttl_secs: Option<u64>,
    rate_per_address: Option<u32>,
    rate_per_wallet: Option<u32>,
    trust_forwarded_for: Option<bool>,
    rpc_url: Option<String>,
    ws_url: Option<String>,
    sol_usd_price_account: Option<String>,
    index_poll_ms: Option<u64>,
    market_refresh_ms: Option<u64>,
    priority_fee_micro_lamports: Option<u64>,
    quota_base: Option<u32>,
}

/// Where the chain is and how the API follows it.
#[derive(Debug, Clone)]
pub struct ChainSettings {
    pub rpc_url: String,
    pub ws_url: String,
    pub sol_usd_price_account: calor_client::Pubkey,
    pub index_poll: Duration,
    pub market_refresh: Duration,
    pub jobs: JobSettings,
    pub reindex: bool,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    pub database_url: String,
    pub app_origin: String,
    pub auth: AuthSettings,
    pub per_address: Rate,
    pub per_wallet: Rate,
    pub trust_forwarded_for: bool,
    pub chain: ChainSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {error}")]
    Parse {
        path: PathBuf,
        error: toml::de::Error,
    },
    #[error("{name} must be between {min} and {max} seconds, not {value}")]
    Ttl {
        name: &'static str,
        value: u64,
        min: u64,
        max: u64,
    },
    #[error("app_origin must be scheme://host[:port], not {0:?}")]
    Origin(String),
    #[error("{name} must be between 1 and 100000 calls a minute, not {value}")]
    Rate { name: &'static str, value: u32 },
    #[error("{name}: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error("chain_id must be solana:mainnet, solana:devnet, solana:testnet or solana:localnet, not {0:?}")]
    Chain(String),
}

const STATEMENT: &str = "Sign in to Calor. This request costs nothing and moves no funds.";

impl Settings {
    pub fn load(flags: Flags) -> Result<Self, ConfigError> {
        let file: File = match &flags.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                    path: path.clone(),
                    error,
                })?;
                toml::from_str(&text).map_err(|error| ConfigError::Parse {
                    path: path.clone(),
                    error,
                })?
            }
            None => File::default(),
        };
        let app_origin = flags
            .app_origin
            .or(file.app_origin)
            .unwrap_or_else(|| "http://localhost:5173".into());
        let domain = app_origin
            .split_once("://")
            .map(|(_, host)| host.trim_end_matches('/'))
            .filter(|h| !h.is_empty() && !h.contains('/'))
            .ok_or_else(|| ConfigError::Origin(app_origin.clone()))?
            .to_string();
        let listen = flags
            .listen
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8080".into());
        let chain_id = flags
            .chain_id
            .or(file.chain_id)
            .unwrap_or_else(|| "solana:localnet".into());
        if ![
            "solana:mainnet",
            "solana:devnet",
            "solana:testnet",
            "solana:localnet",
        ]
        .contains(&chain_id.as_str())
        {
            return Err(ConfigError::Chain(chain_id));
        }
        let ttl = |name, value: Option<u64>, default: u64, min: u64, max: u64| {
            let value = value.unwrap_or(default);
            if value < min || value > max {
                return Err(ConfigError::Ttl {
                    name,
                    value,
                    min,
                    max,
                });
            }
            Ok(Duration::from_secs(value))
        };
        let auth = AuthSettings {
            domain,
            uri: flags
                .public_uri
                .or(file.public_uri)
                .unwrap_or_else(|| format!("http://{listen}/api")),
            statement: STATEMENT.into(),
            chain_id,
            challenge_ttl: ttl(
                "challenge_ttl_secs",
                flags.challenge_ttl_secs.or(file.challenge_ttl_secs),
                300,
                30,
                900,
            )?,
            access_ttl: ttl(
                "access_ttl_secs",
                flags.access_ttl_secs.or(file.access_ttl_secs),
                900,
                60,
                MAX_ACCESS_TTL.as_secs(),
            )?,
            refresh_ttl: ttl(
                "refresh_ttl_secs",
                flags.refresh_ttl_secs.or(file.refresh_ttl_secs),
                7 * 86_400,
                3600,
                30 * 86_400,
            )?,
        };
        // A burst of a quarter of the minute's calls (at least 5) absorbs a page load.
        let rate =
            |name: &'static str, value: Option<u32>, default: u32| -> Result<Rate, ConfigError> {
                let value = value.unwrap_or(default);
                let per_minute = std::num::NonZeroU32::new(value)
                    .filter(|v| v.get() <= 100_000)
                    .ok_or(ConfigError::Rate { name, value })?;
                let burst = std::num::NonZeroU32::new((value / 4).max(5)).expect("at least 5");
                Ok(Rate { per_minute, burst })
            };
        let per_address = rate(
            "rate_per_address",
            flags.rate_per_address.or(file.rate_per_address),
            120,
        )?;
        let per_wallet = rate(
            "rate_per_wallet",
            flags.rate_per_wallet.or(file.rate_per_wallet),
            300,
        )?;
        let rpc_url = flags
            .rpc_url
            .or(file.rpc_url)
            .unwrap_or_else(|| "http://127.0.0.1:8899".into());
        let ws_url = match flags.ws_url.or(file.ws_url) {
            Some(url) => url,
            None => default_ws_url(&rpc_url).ok_or_else(|| ConfigError::Invalid {
                name: "ws_url",
                reason: format!("cannot derive it from rpc_url {rpc_url:?}: set it"),
            })?,
        };
        let sol_usd_price_account = match flags.sol_usd_price_account.or(file.sol_usd_price_account)
        {
            Some(text) => text.parse().map_err(|_| ConfigError::Invalid {
                name: "sol_usd_price_account",
                reason: format!("{text:?} is not a base58 address"),
            })?,
            None => calor_client::pyth::local_sol_usd_price_account(),
        };
        let millis = |name: &'static str, value: Option<u64>, default: u64| {
            let value = value.unwrap_or(default);
            if !(10..=600_000).contains(&value) {
                return Err(ConfigError::Invalid {
                    name,
                    reason: format!("must be between 10 and 600000 ms, not {value}"),
                });
            }
            Ok(Duration::from_millis(value))
        };
        let mut jobs = JobSettings::default();
        if let Some(fee) = flags
            .priority_fee_micro_lamports
            .or(file.priority_fee_micro_lamports)
        {
            jobs.priority.unit_price_micro_lamports = fee;
        }
        if let Some(base) = flags.quota_base.or(file.quota_base) {
            jobs.quota.base = base;
        }
        let chain = ChainSettings {
            rpc_url,
            ws_url,
            sol_usd_price_account,
            index_poll: millis(
                "index_poll_ms",
                flags.index_poll_ms.or(file.index_poll_ms),
                500,
            )?,
            market_refresh: millis(
                "market_refresh_ms",
                flags.market_refresh_ms.or(file.market_refresh_ms),
                1_000,
            )?,
            jobs,
            reindex: flags.reindex,
        };
        Ok(Self {
            chain,
            per_address,
            per_wallet,
            trust_forwarded_for: flags
                .trust_forwarded_for
                .or(file.trust_forwarded_for)
                .unwrap_or(false),
            listen,
            database_url: flags
                .database_url
                .or(file.database_url)
                .unwrap_or_else(|| "sqlite://.calor/api.db".into()),
            app_origin,
            auth,
        })
    }
}

/// `ws://host:port+1` for `http://host:port` (the validator's convention).
fn default_ws_url(rpc_url: &str) -> Option<String> {
    let (scheme, rest) = rpc_url.split_once("://")?;
    let ws = match scheme {
        "http" => "ws",
        "https" => "wss",
        _ => return None,
    };
    let (host, port) = rest.trim_end_matches('/').rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    Some(format!("{ws}://{host}:{}", port.checked_add(1)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_flags_and_limits() {
        let s = Settings::load(Flags::default()).unwrap();
        assert_eq!(s.auth.domain, "localhost:5173");
        assert_eq!(s.auth.access_ttl, Duration::from_secs(900));
        assert_eq!(s.database_url, "sqlite://.calor/api.db");
        let long = Flags {
            access_ttl_secs: Some(7200),
            ..Flags::default()
        };
        assert!(matches!(
            Settings::load(long),
            Err(ConfigError::Ttl {
                name: "access_ttl_secs",
                ..
            })
        ));
        let origin = Flags {
            app_origin: Some("https://app.calor.example/path".into()),
            ..Flags::default()
        };
        assert!(matches!(
            Settings::load(origin),
            Err(ConfigError::Origin(_))
        ));
        let chain = Flags {
            chain_id: Some("ethereum:1".into()),
            ..Flags::default()
        };
        assert!(matches!(Settings::load(chain), Err(ConfigError::Chain(_))));
        let rate = Flags {
            rate_per_wallet: Some(0),
            ..Flags::default()
        };
        assert!(matches!(
            Settings::load(rate),
            Err(ConfigError::Rate {
                name: "rate_per_wallet",
                ..
            })
        ));
        let s = Settings::load(Flags::default()).unwrap();
        assert_eq!(
            (s.per_address.per_minute.get(), s.per_address.burst.get()),
            (120, 30)
        );
        assert!(!s.trust_forwarded_for);
        assert_eq!(s.chain.ws_url, "ws://127.0.0.1:8900");
        let bad_ws = Flags {
            rpc_url: Some("https://rpc.example".into()),
            ..Flags::default()
        };
        assert!(matches!(
            Settings::load(bad_ws),
            Err(ConfigError::Invalid { name: "ws_url", .. })
        ));
    }

    #[test]
    fn the_file_is_checked_and_flags_win() {
        let dir = std::env::temp_dir().join(format!("calor-api-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("api.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\nchain_id = \"solana:devnet\"\n",
        )
        .unwrap();
        let s = Settings::load(Flags {
            config: Some(path.clone()),
            chain_id: Some("solana:mainnet".into()),
            ..Flags::default()
        })
        .unwrap();
        assert_eq!(
            (s.listen.as_str(), s.auth.chain_id.as_str()),
            ("0.0.0.0:9000", "solana:mainnet")
        );
        std::fs::write(&path, "lisen = \"x\"\n").unwrap();
        assert!(matches!(
            Settings::load(Flags {
                config: Some(path),
                ..Flags::default()
            }),
            Err(ConfigError::Parse { .. })
        ));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
