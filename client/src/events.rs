//! The program's events, read back from a transaction's logs. `emit!` logs
//! `Program data: <base64>` (an 8-byte event discriminator, then the Borsh fields); only lines
//! logged while Calor itself is the running program count, so a program Calor calls (or one
//! that calls Calor) cannot forge an event by logging lookalike data.
use anchor_lang::{AnchorDeserialize, Discriminator};
use base64::Engine as _;
use calor::events as ev;

use crate::{Pubkey, PROGRAM_ID};

/// The events an index of rentals needs; anything else the program emits is [`Event::Other`].
pub enum Event {
    RentalOpened(ev::RentalOpened),
    RentalClaimed(ev::RentalClaimed),
    RentalStarted(ev::RentalStarted),
    RentalExtended(ev::RentalExtended),
    RentalEnded(ev::RentalEnded),
    RentalSettled(ev::RentalSettled),
    RefundClaimed(ev::RefundClaimed),
    /// Another event of the program, by discriminator.
    Other([u8; 8]),
}

impl Event {
    /// The rental this event is about, for rental events.
    pub fn rental(&self) -> Option<Pubkey> {
        Some(match self {
            Event::RentalOpened(e) => e.rental,
            Event::RentalClaimed(e) => e.rental,
            Event::RentalStarted(e) => e.rental,
            Event::RentalExtended(e) => e.rental,
            Event::RentalEnded(e) => e.rental,
            Event::RentalSettled(e) => e.rental,
            Event::RefundClaimed(e) => e.rental,
            Event::Other(_) => return None,
        })
    }

    /// Decodes one event from `Program data` bytes; `None` when it is not a whole event.
    pub fn decode(data: &[u8]) -> Option<Event> {
        fn read<T: AnchorDeserialize>(mut body: &[u8]) -> Option<T> {
            let value = T::deserialize(&mut body).ok()?;
            body.is_empty().then_some(value)
        }
        let discriminator: [u8; 8] = data.get(..8)?.try_into().ok()?;
        let body = &data[8..];
        let is = |d: &[u8]| d == discriminator;
        Some(if is(ev::RentalOpened::DISCRIMINATOR) {
            Event::RentalOpened(read(body)?)
        } else if is(ev::RentalClaimed::DISCRIMINATOR) {
            Event::RentalClaimed(read(body)?)
        } else if is(ev::RentalStarted::DISCRIMINATOR) {
            Event::RentalStarted(read(body)?)
        } else if is(ev::RentalExtended::DISCRIMINATOR) {
            Event::RentalExtended(read(body)?)
        } else if is(ev::RentalEnded::DISCRIMINATOR) {
            Event::RentalEnded(read(body)?)
        } else if is(ev::RentalSettled::DISCRIMINATOR) {
            Event::RentalSettled(read(body)?)
        } else if is(ev::RefundClaimed::DISCRIMINATOR) {
            Event::RefundClaimed(read(body)?)
        } else {
            Event::Other(discriminator)
        })
    }
}

/// What a transaction's logs say Calor emitted.
pub struct Emitted {
    pub events: Vec<Event>,
    /// The node cut the logs short (`Log truncated`): later events may be missing.
    pub truncated: bool,
}

/// The events Calor emitted in a transaction, in order, from its log messages.
pub fn from_logs(logs: &[String]) -> Emitted {
    let calor = PROGRAM_ID.to_string();
    let mut stack: Vec<&str> = Vec::new();
    let mut events = Vec::new();
    let mut truncated = false;
    for line in logs {
        if let Some(data) = line.strip_prefix("Program data: ") {
            if stack.last() != Some(&calor.as_str()) {
                continue;
            }
            // `emit!` logs a single field; `sol_log_data` may log several, space-separated
            let first = data.split(' ').next().unwrap_or_default();
            if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(first) {
                events.extend(Event::decode(&bytes));
            }
        } else if line == "Log truncated" {
            truncated = true;
        } else if let Some(rest) = line.strip_prefix("Program ") {
            let mut words = rest.split(' ');
            let (Some(program), Some(verb)) = (words.next(), words.next()) else {
                continue;
            };
            match verb {
                "invoke" => stack.push(program),
                "success" | "failed:" if stack.last() == Some(&program) => {
                    stack.pop();
                }
                _ => {}
            }
        }
    }
    Emitted { events, truncated }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::AnchorSerialize;

    fn data_line(event: &impl AnchorSerialize, discriminator: &[u8]) -> String {
        let mut bytes = discriminator.to_vec();
        event.serialize(&mut bytes).unwrap();
        format!(
            "Program data: {}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    fn claimed(rental: Pubkey) -> ev::RentalClaimed {
        ev::RentalClaimed {
            rental,
            node: Pubkey::new_unique(),
            provider: Pubkey::new_unique(),
        }
    }

    #[test]
    fn reads_events_logged_by_calor_only() {
        let calor = PROGRAM_ID.to_string();
        let other = Pubkey::new_unique().to_string();
        let genuine = Pubkey::new_unique();
        let forged = Pubkey::new_unique();
        let logs = vec![
            format!("Program {other} invoke [1]"),
            // a program calling Calor logs lookalike data before the call
            data_line(&claimed(forged), ev::RentalClaimed::DISCRIMINATOR),
            format!("Program {calor} invoke [2]"),
            "Program log: Instruction: Claim".to_string(),
            data_line(&claimed(genuine), ev::RentalClaimed::DISCRIMINATOR),
            format!("Program {other} invoke [3]"),
            data_line(&claimed(forged), ev::RentalClaimed::DISCRIMINATOR),
            format!("Program {other} success"),
            format!("Program {calor} consumed 2802 of 200000 compute units"),
            format!("Program {calor} success"),
            data_line(&claimed(forged), ev::RentalClaimed::DISCRIMINATOR),
            format!("Program {other} success"),
        ];
        let emitted = from_logs(&logs);
        assert!(!emitted.truncated);
        let rentals: Vec<_> = emitted.events.iter().filter_map(Event::rental).collect();
        assert_eq!(rentals, vec![genuine]);
    }

    #[test]
    fn a_short_or_padded_body_is_not_an_event() {
        let mut bytes = ev::RentalClaimed::DISCRIMINATOR.to_vec();
        claimed(Pubkey::new_unique()).serialize(&mut bytes).unwrap();
        assert!(Event::decode(&bytes).is_some());
        assert!(Event::decode(&bytes[..bytes.len() - 1]).is_none());
        bytes.push(0);
        assert!(Event::decode(&bytes).is_none());
        assert!(matches!(
            Event::decode(&[1, 2, 3, 4, 5, 6, 7, 8]),
            Some(Event::Other(_))
        ));
    }

    #[test]
    fn says_when_logs_were_truncated() {
        let logs = vec![
            format!("Program {PROGRAM_ID} invoke [1]"),
            "Log truncated".to_string(),
        ];
        assert!(from_logs(&logs).truncated);
    }
}
