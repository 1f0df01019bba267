//! What a transaction did, with assertions on success and on named errors.
use solana_instruction::error::InstructionError;
use solana_transaction_error::TransactionError;

#[derive(Debug, Clone)]
pub struct Success {
    pub compute_units: u64,
    pub logs: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub err: TransactionError,
    pub logs: Vec<String>,
}

pub type Outcome = Result<Success, Failure>;

impl Failure {
    /// The custom error code of the failing instruction, if it failed with one.
    pub fn custom_code(&self) -> Option<u32> {
        match self.err {
            TransactionError::InstructionError(_, InstructionError::Custom(code)) => Some(code),
            _ => None,
        }
    }

    fn mismatch(&self, wanted: &str) -> ! {
        panic!(
            "expected {wanted}, got {:?}\n--- logs ---\n{}",
            self.err,
            self.logs.join("\n")
        )
    }
}

/// Assertions on an [`Outcome`]; each panics with the transaction's logs.
pub trait OutcomeExt {
    /// The transaction succeeded; returns it for its compute units and logs.
    fn expect_ok(self, what: &str) -> Success;
    /// The transaction failed with one of the program's [`calor::errors::CalorError`]s.
    fn expect_calor_err(self, expected: calor::errors::CalorError) -> Failure;
    /// The transaction failed with one of Anchor's framework errors (constraints, accounts).
    fn expect_anchor_err(self, expected: anchor_lang::error::ErrorCode) -> Failure;
    /// The transaction failed with this exact error (e.g. a System or Token program error).
    fn expect_tx_err(self, expected: TransactionError) -> Failure;
}

impl OutcomeExt for Outcome {
    fn expect_ok(self, what: &str) -> Success {
        match self {
            Ok(s) => s,
            Err(f) => panic!(
                "{what} failed: {:?}\n--- logs ---\n{}",
                f.err,
                f.logs.join("\n")
            ),
        }
    }

    fn expect_calor_err(self, expected: calor::errors::CalorError) -> Failure {
        let code: u32 = expected.into();
        expect_code(self, code, &format!("CalorError::{expected:?} ({code})"))
    }

    fn expect_anchor_err(self, expected: anchor_lang::error::ErrorCode) -> Failure {
        let code: u32 = expected.into();
        expect_code(
            self,
            code,
            &format!("anchor ErrorCode::{expected:?} ({code})"),
        )
    }

    fn expect_tx_err(self, expected: TransactionError) -> Failure {
        match self {
            Ok(s) => panic!(
                "expected {expected:?}, but it succeeded\n{}",
                s.logs.join("\n")
            ),
            Err(f) if f.err == expected => f,
            Err(f) => f.mismatch(&format!("{expected:?}")),
        }
    }
}

fn expect_code(outcome: Outcome, code: u32, name: &str) -> Failure {
    match outcome {
        Ok(s) => panic!("expected {name}, but it succeeded\n{}", s.logs.join("\n")),
        Err(f) if f.custom_code() == Some(code) => f,
        Err(f) => f.mismatch(name),
    }
}

impl Success {
    /// Decodes every event of type `E` the program emitted (`Program data:` log lines).
    pub fn events<E: anchor_lang::Event + anchor_lang::AnchorDeserialize>(&self) -> Vec<E> {
        use base64::Engine;
        self.logs
            .iter()
            .filter_map(|l| l.strip_prefix("Program data: "))
            .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .filter(|raw| raw.starts_with(E::DISCRIMINATOR))
            .map(|raw| {
                E::deserialize(&mut &raw[E::DISCRIMINATOR.len()..]).expect("event body decodes")
            })
            .collect()
    }
}
