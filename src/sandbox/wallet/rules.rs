//! Behaviour rules: how the sandbox misbehaves for chosen requests, so the gateway's every branch of
//! docs/money.md (definite failure, ambiguous answer, timeout, outage, stuck or declined transactions) can
//! be exercised on purpose.
//!
//! A rule matches a new payout or collection when each of its set fields matches: `msisdn` exactly,
//! `amount` numerically (`500` = `500.00`), `direction` (`"payout"` or `"collection"`, unset = both).
//! The first matching rule wins: configured rules first, then added ones, in order. Rules are only
//! consulted for a reference the wallet has not seen: a replay is always answered per guarantee 1.
//! Wallet-initiated payments never consult rules.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::transaction::TransactionKind;

/// Longest failure code a `fail` rule may carry.
const MAX_CODE_LEN: usize = 64;

/// One rule. JSON: `{"msisdn": "255712345678", "amount": "500", "direction": "payout",
/// "behaviour": {"fail": {"code": "insufficient_funds"}}}`; only `behaviour` is required.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BehaviourRule {
    pub msisdn: Option<String>,
    #[serde(default, with = "crate::domain::money::option")]
    pub amount: Option<Decimal>,
    /// `"payout"`, `"collection"`, or `None` for both. Any other value makes the rule match nothing
    /// (settings and the rules hook refuse it).
    pub direction: Option<String>,
    pub behaviour: Behaviour,
}

/// What the wallet does with a matching request. Externally tagged: `"reject"`,
/// `{"fail": {"code": "insufficient_funds"}}`, `{"timeout": {"delay_ms": 20000}}`, …
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Behaviour {
    /// `400 invalid_request`, nothing recorded.
    Reject,
    /// `202 pending`, then final `failed` with `failure_code = code` and one `*.failed` callback.
    Fail { code: String },
    /// Recorded at once and finishing normally, but the HTTP answer is held `delay_ms`.
    Timeout { delay_ms: u64 },
    /// Recorded (it will complete), answered `500`: an ambiguous outcome.
    ErrorAfterCommit,
    /// Answered `500`, nothing recorded: a later GET is `404`.
    ErrorBeforeCommit,
    /// `503 unavailable`, nothing recorded.
    Unavailable,
    /// `202 pending`, and it never finishes by itself.
    StayPending,
    /// Collections only: the subscriber declines the prompt → `collection.failed` `cancelled_by_user`.
    Decline,
}

impl BehaviourRule {
    /// Refuses a rule that could never do what it says.
    pub(crate) fn check(&self) -> Result<(), String> {
        match self.direction.as_deref() {
            None | Some("payout" | "collection") => {}
            Some(other) => return Err(format!("rule direction {other:?} must be \"payout\" or \"collection\"")),
        }
        if self.behaviour == Behaviour::Decline && self.direction.as_deref() == Some("payout") {
            return Err("a decline rule applies to collections only".to_owned());
        }
        if let Behaviour::Fail { code } = &self.behaviour {
            if code.is_empty() || code.len() > MAX_CODE_LEN {
                return Err(format!("a fail rule needs a code of 1..={MAX_CODE_LEN} characters"));
            }
        }
        if self.amount.is_some_and(|a| a <= Decimal::ZERO) {
            return Err("a rule amount must be greater than zero".to_owned());
        }
        Ok(())
    }

    /// Whether this rule applies to a new `kind` request from `msisdn` for `amount`.
    pub(crate) fn matches(&self, kind: TransactionKind, msisdn: &str, amount: Decimal) -> bool {
        if self.behaviour == Behaviour::Decline && kind != TransactionKind::Collection {
            return false;
        }
        self.direction.as_deref().is_none_or(|d| d == kind.as_str())
            && self.msisdn.as_deref().is_none_or(|m| m == msisdn)
            && self.amount.is_none_or(|a| a == amount)
    }
}

/// The behaviour of the first rule matching, if any.
pub(crate) fn first_match(
    rules: &[BehaviourRule],
    kind: TransactionKind,
    msisdn: &str,
    amount: Decimal,
) -> Option<Behaviour> {
    rules.iter().find(|r| r.matches(kind, msisdn, amount)).map(|r| r.behaviour.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> BehaviourRule {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn rules_parse_from_the_documented_json() {
        let r =
            rule(r#"{"msisdn":"255712345678","amount":"500","direction":"payout","behaviour":{"fail":{"code":"x"}}}"#);
        assert_eq!(r.behaviour, Behaviour::Fail { code: "x".to_owned() });
        assert_eq!(r.amount, Some(Decimal::from(500)));
        assert_eq!(rule(r#"{"behaviour":"reject"}"#).behaviour, Behaviour::Reject);
        assert_eq!(
            rule(r#"{"behaviour":{"timeout":{"delay_ms":20000}}}"#).behaviour,
            Behaviour::Timeout { delay_ms: 20000 }
        );
        assert!(serde_json::from_str::<BehaviourRule>(r#"{"behaviour":"reject","colour":"red"}"#).is_err());
        assert!(serde_json::from_str::<BehaviourRule>(r#"{"behaviour":"explode"}"#).is_err());
    }

    #[test]
    fn matching_is_exact_on_msisdn_numeric_on_amount_and_decline_is_for_collections_only() {
        let r = rule(r#"{"msisdn":"255712345678","amount":500,"behaviour":"decline"}"#);
        assert!(r.matches(TransactionKind::Collection, "255712345678", Decimal::new(50000, 2)));
        assert!(!r.matches(TransactionKind::Payout, "255712345678", Decimal::from(500)));
        assert!(!r.matches(TransactionKind::Collection, "255712345679", Decimal::from(500)));
        assert!(!r.matches(TransactionKind::Collection, "255712345678", Decimal::from(501)));
        let any = rule(r#"{"direction":"payout","behaviour":"reject"}"#);
        assert!(any.matches(TransactionKind::Payout, "1", Decimal::ONE));
        assert!(!any.matches(TransactionKind::Collection, "1", Decimal::ONE));
    }

    #[test]
    fn impossible_rules_are_refused() {
        assert!(rule(r#"{"direction":"sideways","behaviour":"reject"}"#).check().is_err());
        assert!(rule(r#"{"direction":"payout","behaviour":"decline"}"#).check().is_err());
        assert!(rule(r#"{"behaviour":{"fail":{"code":""}}}"#).check().is_err());
        assert!(rule(r#"{"amount":"0","behaviour":"reject"}"#).check().is_err());
        assert!(rule(r#"{"direction":"collection","behaviour":"decline"}"#).check().is_ok());
    }
}
