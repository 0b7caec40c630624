//! The transaction object of docs/money.md, exactly as the endpoints and every callback's
//! `data` carry it: every field always present (`null` where not applicable), the amount as a decimal
//! string with two decimals, `occurred_at` as RFC 3339 UTC with `Z`.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionKind {
    Payout,
    Collection,
    /// Wallet-initiated: the subscriber paid our business number (the `/payments` hook).
    Payment,
}

impl TransactionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionKind::Payout => "payout",
            TransactionKind::Collection => "collection",
            TransactionKind::Payment => "payment",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransactionStatus {
    Pending,
    Completed,
    Failed,
}

/// One transaction as the wire shows it; fields in the documented order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TransactionView {
    pub kind: TransactionKind,
    /// Our reference; `None` for payments.
    pub reference: Option<String>,
    /// Set exactly when `status` is completed.
    pub receipt: Option<String>,
    /// Collections echo the request; payments hold the trimmed typed text; payouts `None`.
    pub account: Option<String>,
    pub msisdn: String,
    #[serde(serialize_with = "two_decimals")]
    pub amount: Decimal,
    pub currency: String,
    pub status: TransactionStatus,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    #[serde(serialize_with = "optional_rfc3339")]
    pub occurred_at: Option<DateTime<Utc>>,
}

impl TransactionView {
    /// The callback `type` for a final transaction; `None` while pending.
    pub fn event_type(&self) -> Option<&'static str> {
        use {TransactionKind as K, TransactionStatus as S};
        match (self.kind, self.status) {
            (_, S::Pending) => None,
            (K::Payout, S::Completed) => Some("payout.completed"),
            (K::Payout, S::Failed) => Some("payout.failed"),
            (K::Collection, S::Completed) => Some("collection.completed"),
            (K::Collection, S::Failed) => Some("collection.failed"),
            // A payment is born completed; it cannot fail, but a failed one would be no payment at all.
            (K::Payment, S::Completed) => Some("payment.received"),
            (K::Payment, S::Failed) => None,
        }
    }

    /// The amount as the wire spells it: `"11100.00"`.
    pub fn wire_amount(&self) -> String {
        format!("{:.2}", self.amount)
    }
}

/// The current time in whole seconds, as the wire shows it.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}

/// RFC 3339 in UTC, whole seconds, with `Z`: `2026-05-25T10:02:39Z`.
pub(crate) fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn two_decimals<S: Serializer>(amount: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{amount:.2}"))
}

fn optional_rfc3339<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => s.serialize_str(&rfc3339(*at)),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn payout() -> TransactionView {
        TransactionView {
            kind: TransactionKind::Payout,
            reference: Some("L0000123455".to_owned()),
            receipt: None,
            account: None,
            msisdn: "255712345678".to_owned(),
            amount: Decimal::from(50_000),
            currency: "TZS".to_owned(),
            status: TransactionStatus::Pending,
            failure_code: None,
            failure_message: None,
            occurred_at: None,
        }
    }

    #[test]
    fn a_pending_payout_serialises_exactly_like_the_spec_example() {
        let expected = r#"{"kind":"payout","reference":"L0000123455","receipt":null,"account":null,"msisdn":"255712345678","amount":"50000.00","currency":"TZS","status":"pending","failure_code":null,"failure_message":null,"occurred_at":null}"#;
        assert_eq!(serde_json::to_string(&payout()).unwrap(), expected);
    }

    #[test]
    fn final_transactions_carry_a_z_timestamp_and_an_event_type() {
        let mut view = payout();
        view.status = TransactionStatus::Completed;
        view.receipt = Some("HP3B8D1F6Z".to_owned());
        view.amount = Decimal::new(5005, 1);
        view.occurred_at = Some(Utc.with_ymd_and_hms(2026, 5, 18, 7, 2, 11).unwrap());
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["occurred_at"], "2026-05-18T07:02:11Z");
        assert_eq!(json["amount"], "500.50");
        assert_eq!(view.event_type(), Some("payout.completed"));
        assert_eq!(payout().event_type(), None);
    }
}
