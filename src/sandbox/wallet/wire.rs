//! Reading requests: the `POST /payouts` / `POST /collections` body (docs/money.md), the sandbox
//! `POST /payments` body, and the field rules of docs/money.md. Every problem becomes
//! `400 invalid_request` listing what is wrong, never a panic or actix's plain-text 400.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::errors::WalletError;
use super::transaction::TransactionKind;

/// Longest `description` and `account`, in characters.
const MAX_TEXT_CHARS: usize = 100;

/// A checked payout or collection request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Transfer {
    pub kind: TransactionKind,
    pub reference: String,
    pub msisdn: String,
    pub amount: Decimal,
    pub currency: String,
    /// Collections only (required there); payouts ignore any `account` sent.
    pub account: Option<String>,
}

/// Unknown fields are ignored: v1 changes are additive.
#[derive(Deserialize)]
struct TransferBody {
    reference: Option<String>,
    msisdn: Option<String>,
    amount: Option<Value>,
    currency: Option<String>,
    account: Option<String>,
    description: Option<String>,
}

/// The sandbox-only payment body; a hook, so typos are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentBody {
    msisdn: Option<String>,
    amount: Option<Value>,
    currency: Option<String>,
    account: Option<String>,
}

/// A payment as the hook received it; [`super::SandboxWallet::simulate_payment`] checks the rest.
pub(crate) struct PaymentRequest {
    pub msisdn: String,
    pub amount: Decimal,
    pub currency: Option<String>,
    pub account: Option<String>,
}

/// Problems found in one body, reported together.
#[derive(Default)]
pub(crate) struct Problems(Vec<String>);

impl Problems {
    pub fn add(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }

    pub fn check(self) -> Result<(), WalletError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(WalletError::invalid_request(self.0.join("; ")))
        }
    }
}

pub(crate) fn json_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, WalletError> {
    serde_json::from_slice(bytes).map_err(|e| WalletError::invalid_request(format!("body: {e}")))
}

/// Parses and checks a payout or collection body against `currency`.
pub(crate) fn transfer(kind: TransactionKind, bytes: &[u8], currency: &str) -> Result<Transfer, WalletError> {
    let body: TransferBody = json_body(bytes)?;
    let mut problems = Problems::default();
    let reference = body.reference.unwrap_or_default();
    if !is_reference(&reference) {
        problems.add("reference must match ^[A-Za-z0-9_-]{1,64}$");
    }
    let msisdn = body.msisdn.unwrap_or_default();
    check_msisdn(&msisdn, &mut problems);
    let amount = match body.amount {
        Some(Value::String(text)) => wire_amount(&text, &mut problems),
        _ => {
            problems.add("amount must be a decimal string such as \"500.00\"");
            None
        }
    };
    let currency_given = body.currency.unwrap_or_default();
    check_currency(&currency_given, currency, &mut problems);
    let account = match kind {
        TransactionKind::Collection => {
            let account = body.account.filter(|a| !a.trim().is_empty());
            match &account {
                None => problems.add("account is required for a collection"),
                Some(a) if a.chars().count() > MAX_TEXT_CHARS => {
                    problems.add(format!("account must be at most {MAX_TEXT_CHARS} characters"))
                }
                Some(_) => {}
            }
            account
        }
        _ => None,
    };
    // `description` is checked, then dropped: a simulated wallet shows it to nobody.
    if body.description.as_ref().is_some_and(|d| d.chars().count() > MAX_TEXT_CHARS) {
        problems.add(format!("description must be at most {MAX_TEXT_CHARS} characters"));
    }
    problems.check()?;
    let amount = amount.ok_or_else(|| WalletError::internal("amount passed validation without a value"))?;
    Ok(Transfer { kind, reference, msisdn, amount, currency: currency_given, account })
}

/// Parses the `/payments` hook body: the amount as a decimal string or a JSON number (read exactly).
pub(crate) fn payment(bytes: &[u8]) -> Result<PaymentRequest, WalletError> {
    let body: PaymentBody = json_body(bytes)?;
    let mut problems = Problems::default();
    let amount = match body.amount {
        Some(Value::String(text)) => wire_amount(&text, &mut problems),
        // Under `arbitrary_precision` a number's text is exactly what was sent: no f64 on the way.
        Some(Value::Number(number)) => wire_amount(&number.to_string(), &mut problems),
        _ => {
            problems.add("amount must be a decimal string such as \"500.00\" or a JSON number");
            None
        }
    };
    let msisdn = body.msisdn.unwrap_or_default();
    if msisdn.is_empty() {
        problems.add("msisdn is required");
    }
    problems.check()?;
    let amount = amount.ok_or_else(|| WalletError::internal("amount passed validation without a value"))?;
    Ok(PaymentRequest { msisdn, amount, currency: body.currency, account: body.account })
}

/// `^[A-Za-z0-9_-]{1,64}$`.
pub(crate) fn is_reference(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// E.164 digits without `+`: a non-zero first digit (the country code), 8 to 15 digits in all.
pub(crate) fn check_msisdn(msisdn: &str, problems: &mut Problems) {
    let digits = msisdn.bytes().all(|b| b.is_ascii_digit());
    if !(digits && (8..=15).contains(&msisdn.len()) && !msisdn.starts_with('0')) {
        problems.add("msisdn must be E.164 digits without + (e.g. \"255712345678\")");
    }
}

pub(crate) fn check_currency(given: &str, expected: &str, problems: &mut Problems) {
    if given != expected {
        problems.add(format!("currency must be {expected}"));
    }
}

/// Checks an amount the Rust API received: greater than zero, at most two decimals, at most 15
/// integer digits (the docs/money.md wire pattern, in numbers).
pub(crate) fn check_amount(amount: Decimal, problems: &mut Problems) {
    let limit = Decimal::from(1_000_000_000_000_000_i64);
    if amount <= Decimal::ZERO || amount >= limit || amount.normalize().scale() > 2 {
        problems.add("amount must be greater than 0 with at most 15 integer digits and 2 decimals");
    }
}

/// Reads a wire amount: `^(0|[1-9][0-9]{0,14})(\.[0-9]{1,2})?$` and greater than zero.
fn wire_amount(text: &str, problems: &mut Problems) -> Option<Decimal> {
    let parsed = matches_amount_pattern(text).then(|| Decimal::from_str(text).ok()).flatten();
    match parsed {
        Some(amount) if amount > Decimal::ZERO => Some(amount),
        Some(_) => {
            problems.add("amount must be greater than 0");
            None
        }
        None => {
            problems.add("amount must match ^(0|[1-9][0-9]{0,14})(\\.[0-9]{1,2})?$");
            None
        }
    }
}

fn matches_amount_pattern(text: &str) -> bool {
    let (int, frac) = match text.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (text, None),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let int_ok = all_digits(int) && (int == "0" || ((1..=15).contains(&int.len()) && !int.starts_with('0')));
    let frac_ok = frac.is_none_or(|f| (1..=2).contains(&f.len()) && all_digits(f));
    int_ok && frac_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_amount_pattern_is_the_spec_regex() {
        for ok in ["0", "0.5", "0.01", "1", "500", "500.5", "500.00", "999999999999999.99"] {
            assert!(matches_amount_pattern(ok), "{ok}");
        }
        for bad in ["", "00", "01", "1.", ".5", "1.234", "-1", "+1", "1e3", " 1", "1 ", "1,5", "1000000000000000", "١"]
        {
            assert!(!matches_amount_pattern(bad), "{bad}");
        }
    }

    #[test]
    fn rust_amounts_follow_the_same_limits() {
        let check = |d: Decimal| {
            let mut p = Problems::default();
            check_amount(d, &mut p);
            p.check().is_ok()
        };
        assert!(check(Decimal::new(1, 2)));
        assert!(check(Decimal::new(500_000, 3)), "500.000 is 500.00 exactly");
        assert!(!check(Decimal::new(5001, 3)));
        assert!(!check(Decimal::ZERO));
        assert!(!check(Decimal::from(1_000_000_000_000_000_i64)));
    }

    #[test]
    fn references_follow_the_spec_pattern() {
        assert!(is_reference("L0000123455") && is_reference("a_b-C") && is_reference(&"x".repeat(64)));
        assert!(!is_reference("") && !is_reference("a.b") && !is_reference(&"x".repeat(65)) && !is_reference("é"));
    }
}
