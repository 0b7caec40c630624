//! The loan object, decoded as both documentation generations show it (its status: [`super::status`]).
//! The balance roll-up may arrive flat or under `summary`; fee and penalty roll-ups under the documented
//! names (`feeCharged`, ...) or Fineract's (`feeChargesCharged`, ...); `overdue` may be a boolean or a
//! number; `nextDueDate` may be absent, null or `""` and `nextDueAmount` absent, null or 0 ("nothing
//! due"); a row may have no `externalId` (it is optional on create), and is then addressed by its LMS id.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

pub use super::status::LoanStatus;
use super::types::Repayment;
use crate::domain::money;

/// How a loan is addressed in a path: by the externalId we gave it (preferred), or by its LMS id when
/// it has none (a loan the lender's back office created).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LoanKey {
    External(String),
    Id(String),
}

impl LoanKey {
    /// The path of the loan under `/v1`, segment encoded: `/v1/loans/external/{x}` or `/v1/loans/{id}`.
    pub fn path(&self) -> String {
        match self {
            LoanKey::External(x) => format!("/v1/loans/external/{}", super::transport::segment(x)),
            LoanKey::Id(id) => format!("/v1/loans/{}", super::transport::segment(id)),
        }
    }

    /// The route template of `suffix` under this loan, for logs and metrics (never the concrete id).
    pub(super) fn endpoint(&self, method_and_suffix: LoanRoute) -> &'static str {
        use LoanRoute::*;
        let external = matches!(self, LoanKey::External(_));
        match (method_and_suffix, external) {
            (Get, true) => "GET /v1/loans/external/{id}",
            (Get, false) => "GET /v1/loans/{id}",
            (Delete, true) => "DELETE /v1/loans/external/{id}",
            (Delete, false) => "DELETE /v1/loans/{id}",
            (Repay, true) => "POST /v1/loans/external/{id}/repayments",
            (Repay, false) => "POST /v1/loans/{id}/repayments",
            (Rollback, true) => "POST /v1/loans/external/{id}/rollback",
            (Rollback, false) => "POST /v1/loans/{id}/rollback",
            (UndoDisbursal, true) => "POST /v1/loans/external/{id}/undo-disbursal",
            (UndoDisbursal, false) => "POST /v1/loans/{id}/undo-disbursal",
            (UndoApproval, true) => "POST /v1/loans/external/{id}/undo-approval",
            (UndoApproval, false) => "POST /v1/loans/{id}/undo-approval",
        }
    }
}

/// The per-loan routes the gateway calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LoanRoute {
    Get,
    Delete,
    Repay,
    Rollback,
    UndoDisbursal,
    UndoApproval,
}

impl LoanRoute {
    pub(super) fn suffix(self) -> &'static str {
        match self {
            LoanRoute::Get | LoanRoute::Delete => "",
            LoanRoute::Repay => "/repayments",
            LoanRoute::Rollback => "/rollback",
            LoanRoute::UndoDisbursal => "/undo-disbursal",
            LoanRoute::UndoApproval => "/undo-approval",
        }
    }
}

/// Marks a loan token that carries an LMS id rather than an externalId.
const LMS_ID_TOKEN: &str = "#lms:";

impl LoanKey {
    /// A one-string form for menu slots and collection records: the externalId as is, or `#lms:{id}`.
    pub fn token(&self) -> String {
        match self {
            LoanKey::External(x) => x.clone(),
            LoanKey::Id(id) => format!("{LMS_ID_TOKEN}{id}"),
        }
    }

    pub fn from_token(token: &str) -> Self {
        match token.strip_prefix(LMS_ID_TOKEN) {
            Some(id) => LoanKey::Id(id.to_owned()),
            None => LoanKey::External(token.to_owned()),
        }
    }
}

impl std::fmt::Display for LoanKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoanKey::External(x) => f.write_str(x),
            LoanKey::Id(id) => write!(f, "lms-id {id}"),
        }
    }
}

/// The nested form of the roll-up that one documentation page shows.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoanSummary {
    #[serde(default, with = "money::option")]
    pub total_outstanding: Option<Decimal>,
    #[serde(default, with = "money::option")]
    pub total_repayment: Option<Decimal>,
    #[serde(default, with = "money::option")]
    pub total_overpaid: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRow {
    #[serde(default)]
    pub period: Option<u32>,
    #[serde(default)]
    pub from_date: Option<NaiveDate>,
    #[serde(default)]
    pub due_date: Option<NaiveDate>,
    #[serde(default, with = "money::option")]
    pub total_due: Option<Decimal>,
    #[serde(default, with = "money::option")]
    pub total_outstanding: Option<Decimal>,
    #[serde(default)]
    pub complete: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Loan {
    pub id: String,
    /// Optional on create in both generations; `None` for absent, null or empty.
    #[serde(default, deserialize_with = "optional_text")]
    pub external_id: Option<String>,
    /// The LMS customer id (not the externalId we sent on create).
    pub customer_id: String,
    pub customer_name: Option<String>,
    pub loan_product_id: Option<String>,
    pub loan_product_name: Option<String>,
    pub status: LoanStatus,
    pub currency_code: String,
    #[serde(with = "money::number")]
    pub principal: Decimal,
    #[serde(default, with = "money::option")]
    total_outstanding: Option<Decimal>,
    #[serde(default, with = "money::option")]
    total_repayment: Option<Decimal>,
    #[serde(default, with = "money::option")]
    total_overpaid: Option<Decimal>,
    #[serde(default, with = "money::option")]
    pub interest_charged: Option<Decimal>,
    #[serde(default, with = "money::option")]
    pub interest_outstanding: Option<Decimal>,
    #[serde(default, with = "money::option")]
    pub principal_outstanding: Option<Decimal>,
    // Fees and penalties under the documented names and under Fineract's; both may be sent, so they are
    // separate fields (a serde alias would refuse a body carrying both).
    #[serde(default, with = "money::option")]
    fee_charged: Option<Decimal>,
    #[serde(default, with = "money::option")]
    fee_charges_charged: Option<Decimal>,
    #[serde(default, with = "money::option")]
    fee_paid: Option<Decimal>,
    #[serde(default, with = "money::option")]
    fee_charges_paid: Option<Decimal>,
    #[serde(default, with = "money::option")]
    fee_outstanding: Option<Decimal>,
    #[serde(default, with = "money::option")]
    fee_charges_outstanding: Option<Decimal>,
    #[serde(default, with = "money::option")]
    penalty_charged: Option<Decimal>,
    #[serde(default, with = "money::option")]
    penalty_charges_charged: Option<Decimal>,
    #[serde(default, with = "money::option")]
    penalty_paid: Option<Decimal>,
    #[serde(default, with = "money::option")]
    penalty_charges_paid: Option<Decimal>,
    #[serde(default, with = "money::option")]
    penalty_outstanding: Option<Decimal>,
    #[serde(default, with = "money::option")]
    penalty_charges_outstanding: Option<Decimal>,
    #[serde(default)]
    summary: Option<LoanSummary>,
    /// `None` when nothing is due: absent, null, or `""` ("Empty for fully-paid or closed loans").
    #[serde(default, deserialize_with = "optional_date")]
    pub next_due_date: Option<NaiveDate>,
    #[serde(default, with = "money::option")]
    next_due_amount: Option<Decimal>,
    #[serde(default, deserialize_with = "overdue_flag")]
    overdue: Option<bool>,
    #[serde(default)]
    repayment_schedule: Vec<ScheduleRow>,
    #[serde(default)]
    pub repayment_history: Vec<Repayment>,
}

/// Fees or penalties of a loan: charged, paid, outstanding (absent reads as 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Charges {
    pub charged: Decimal,
    pub paid: Decimal,
    pub outstanding: Decimal,
}

impl Loan {
    /// How to address this loan: by externalId when it has one, else by LMS id.
    pub fn key(&self) -> LoanKey {
        match &self.external_id {
            Some(x) => LoanKey::External(x.clone()),
            None => LoanKey::Id(self.id.clone()),
        }
    }

    /// Fees, under the documented names or Fineract's (the documented name wins when both are sent).
    pub fn fees(&self) -> Charges {
        Charges {
            charged: self.fee_charged.or(self.fee_charges_charged).unwrap_or_default(),
            paid: self.fee_paid.or(self.fee_charges_paid).unwrap_or_default(),
            outstanding: self.fee_outstanding.or(self.fee_charges_outstanding).unwrap_or_default(),
        }
    }

    /// Penalties, under the documented names or Fineract's.
    pub fn penalties(&self) -> Charges {
        Charges {
            charged: self.penalty_charged.or(self.penalty_charges_charged).unwrap_or_default(),
            paid: self.penalty_paid.or(self.penalty_charges_paid).unwrap_or_default(),
            outstanding: self.penalty_outstanding.or(self.penalty_charges_outstanding).unwrap_or_default(),
        }
    }

    /// Everything the LMS charges on top of the principal at creation: interest, fees and penalties.
    pub fn charges_at_creation(&self) -> Decimal {
        self.interest_charged.unwrap_or_default() + self.fees().charged + self.penalties().charged
    }

    pub fn is_active(&self) -> bool {
        self.status == LoanStatus::Active
    }

    /// The headline amount owed, flat or under `summary`. `None` when the LMS omitted it (re-read the loan).
    pub fn total_outstanding(&self) -> Option<Decimal> {
        self.total_outstanding.or_else(|| self.summary.as_ref()?.total_outstanding)
    }

    pub fn total_repayment(&self) -> Option<Decimal> {
        self.total_repayment.or_else(|| self.summary.as_ref()?.total_repayment)
    }

    pub fn total_overpaid(&self) -> Decimal {
        self.total_overpaid.or_else(|| self.summary.as_ref()?.total_overpaid).unwrap_or_default()
    }

    /// The next instalment amount; a 0 means nothing is due and reads as `None`.
    pub fn next_due_amount(&self) -> Option<Decimal> {
        self.next_due_amount.filter(|a| !a.is_zero())
    }

    /// The LMS's flag when present; otherwise derived from the next due date and the balance.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.overdue.unwrap_or_else(|| {
            self.next_due_date.is_some_and(|d| d < today) && self.total_outstanding().is_some_and(|t| t > Decimal::ZERO)
        })
    }

    /// The day a settled loan was repaid in full, as its row shows it: the newest customer repayment of
    /// `repaymentHistory` (sent on single reads, and by some list rows), else the last instalment's due
    /// date (a loan repaid early reads as repaid at its maturity, one repaid late as repaid then).
    /// `None` when the row shows neither.
    pub fn settled_on(&self) -> Option<NaiveDate> {
        let paid = self.repayment_history.iter().filter(|r| r.counts()).filter_map(|r| r.date).max();
        paid.or_else(|| self.schedule().filter_map(|r| r.due_date).max())
    }

    /// The disbursement date as the schedule shows it: the first instalment's `fromDate` (unconfirmed
    /// row shape, so `None` when the LMS does not send it).
    pub fn disbursement_date(&self) -> Option<NaiveDate> {
        self.schedule().find(|r| r.period == Some(1)).and_then(|r| r.from_date)
    }

    /// Instalment rows; Fineract-style rows without a `period` (disbursement lines) are dropped.
    pub fn schedule(&self) -> impl Iterator<Item = &ScheduleRow> {
        self.repayment_schedule.iter().filter(|r| r.period.is_some())
    }
}

/// Text that may be absent, null or empty; all three read as `None`.
fn optional_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.trim().is_empty()))
}

/// A `YYYY-MM-DD` date that may be absent, null or `""` (nothing due). Other text is an error.
fn optional_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map(Some)
            .map_err(|_| serde::de::Error::custom("expected a YYYY-MM-DD date or an empty string")),
    }
}

/// `overdue` is documented as a boolean but may arrive as a number (`> 0` = overdue) or null.
fn overdue_flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(serde_json::Value::Number(n)) => {
            Some(money::parse_decimal(&n.to_string()).is_ok_and(|v| v > Decimal::ZERO))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC_EXAMPLE: &str = r#"{
      "id": "501", "accountNo": "000000501", "externalId": "loan-ext-12345", "customerId": "42",
      "customerName": "ext-ada-001 Customer", "loanProductId": "1", "loanProductName": "Halotel 7-Day Loan",
      "status": "Active", "principal": 10000, "approvedPrincipal": 10000, "currencyCode": "TZS",
      "principalDisbursed": 10000, "interestCharged": 1100, "totalRepayment": 0, "totalOutstanding": 11100,
      "totalOverpaid": 0, "nextDueDate": "2026-06-01", "nextDueAmount": 11100, "overdue": false,
      "repaymentSchedule": [
        { "period": 1, "fromDate": "2026-05-25", "dueDate": "2026-06-01", "principalDue": 10000, "interestDue": 1100,
          "totalDue": 11100, "totalPaid": 0, "totalOutstanding": 11100, "complete": false },
        { "dueDate": "2026-05-25", "principalDisbursed": 10000 }
      ],
      "repaymentHistory": []
    }"#;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn the_documented_loan_object_parses() {
        let loan: Loan = serde_json::from_str(DOC_EXAMPLE).unwrap();
        assert_eq!(loan.status, LoanStatus::Active);
        assert_eq!(loan.total_outstanding(), Some(Decimal::from(11100)));
        assert_eq!(loan.next_due_amount(), Some(Decimal::from(11100)));
        assert_eq!(loan.next_due_date, Some(date("2026-06-01")));
        assert!(!loan.is_overdue(date("2026-07-01")), "the LMS flag wins");
        assert_eq!(loan.schedule().count(), 1, "rows without a period are dropped");
    }

    #[test]
    fn the_roll_up_may_sit_under_summary_and_overdue_may_be_derived() {
        let loan: Loan = serde_json::from_str(
            r#"{"id":"1","externalId":"L1","customerId":"2","status":"active","currencyCode":"TZS","principal":100,
                "summary":{"totalOutstanding":55.5},"nextDueDate":"2026-06-01","nextDueAmount":0}"#,
        )
        .unwrap();
        assert_eq!(loan.total_outstanding(), Some(Decimal::new(555, 1)));
        assert_eq!(loan.next_due_amount(), None, "0 reads as nothing due");
        assert!(loan.is_overdue(date("2026-06-02")));
        assert!(!loan.is_overdue(date("2026-06-01")));
    }

    #[test]
    fn overdue_may_be_a_number() {
        let parse = |flag: &str| -> Loan {
            serde_json::from_str(&format!(
                r#"{{"id":"1","externalId":"L1","customerId":"2","status":"Active","currencyCode":"TZS","principal":1,"overdue":{flag}}}"#
            ))
            .unwrap()
        };
        assert!(parse("3").is_overdue(date("2026-01-01")));
        assert!(!parse("0").is_overdue(date("2026-01-01")));
    }

    #[test]
    fn statuses_map_case_insensitively_with_a_fallback() {
        assert_eq!(LoanStatus::parse("CLOSED (obligations met)"), LoanStatus::ClosedObligationsMet);
        assert_eq!(LoanStatus::parse("Transfer in progress"), LoanStatus::Other("Transfer in progress".into()));
        assert_eq!(LoanStatus::SubmittedPendingApproval.as_str(), "Submitted and pending approval");
    }
}
