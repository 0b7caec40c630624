//! Wire shapes of loans and repayment transactions (docs/lms.md), derived from the stored records.
//! Every amount goes through the exact money serializer. The doc quirks that change a loan's shape
//! (empty next-due, the docs' fee names) are applied here.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use super::customers::account_no;
use super::generation::SandboxQuirks;
use super::records::{Loan, LoanStatus, Repayment};
use super::schedule::{self, Instalment};

/// The loan object, identical for create, single reads and list rows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LoanView {
    id: String,
    account_no: String,
    /// Absent altogether on a loan created without one (the docs' list example has no such key).
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    customer_id: String,
    customer_name: String,
    loan_product_id: String,
    loan_product_name: String,
    status: &'static str,
    #[serde(with = "crate::domain::money::number")]
    principal: Decimal,
    #[serde(with = "crate::domain::money::number")]
    approved_principal: Decimal,
    currency_code: String,
    term_frequency: u64,
    number_of_repayments: u32,
    #[serde(with = "crate::domain::money::number")]
    interest_rate_per_period: Decimal,
    #[serde(with = "crate::domain::money::number")]
    principal_disbursed: Decimal,
    #[serde(with = "crate::domain::money::number")]
    principal_paid: Decimal,
    #[serde(with = "crate::domain::money::number")]
    principal_outstanding: Decimal,
    #[serde(with = "crate::domain::money::number")]
    interest_charged: Decimal,
    #[serde(with = "crate::domain::money::number")]
    interest_paid: Decimal,
    #[serde(with = "crate::domain::money::number")]
    interest_outstanding: Decimal,
    // One of the two namings is present (`SandboxQuirks::docs_fee_names`), the other skipped.
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    fee_charges_charged: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    fee_charges_paid: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    fee_charges_outstanding: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    penalty_charges_charged: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    penalty_charges_paid: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    penalty_charges_outstanding: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    fee_charged: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    fee_paid: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    fee_outstanding: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    penalty_charged: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    penalty_paid: Option<Decimal>,
    #[serde(with = "crate::domain::money::option", skip_serializing_if = "Option::is_none")]
    penalty_outstanding: Option<Decimal>,
    #[serde(with = "crate::domain::money::number")]
    total_repayment: Decimal,
    #[serde(with = "crate::domain::money::number")]
    total_outstanding: Decimal,
    #[serde(with = "crate::domain::money::number")]
    total_overpaid: Decimal,
    next_due_date: DueDate,
    #[serde(with = "crate::domain::money::option")]
    next_due_amount: Option<Decimal>,
    overdue: bool,
    repayment_schedule: Vec<ScheduleRowView>,
    repayment_history: Vec<RepaymentView>,
}

impl LoanView {
    /// The LMS id, as on the wire.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// `nextDueDate`: a date, or, once nothing is due, `null` (Fineract) or `""` (the docs' form).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DueDate {
    On(NaiveDate),
    Null,
    Empty,
}

impl Serialize for DueDate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DueDate::On(date) => date.serialize(s),
            DueDate::Null => s.serialize_none(),
            DueDate::Empty => s.serialize_str(""),
        }
    }
}

/// One `repaymentSchedule` row.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ScheduleRowView {
    period: u32,
    from_date: NaiveDate,
    due_date: NaiveDate,
    #[serde(with = "crate::domain::money::number")]
    principal_due: Decimal,
    #[serde(with = "crate::domain::money::number")]
    interest_due: Decimal,
    #[serde(with = "crate::domain::money::number")]
    total_due: Decimal,
    #[serde(with = "crate::domain::money::number")]
    total_paid: Decimal,
    #[serde(with = "crate::domain::money::number")]
    total_outstanding: Decimal,
    complete: bool,
}

impl From<&Instalment> for ScheduleRowView {
    fn from(row: &Instalment) -> Self {
        ScheduleRowView {
            period: row.period,
            from_date: row.from_date,
            due_date: row.due_date,
            principal_due: row.principal_due,
            interest_due: row.interest_due,
            total_due: row.total_due(),
            total_paid: row.total_paid(),
            total_outstanding: row.outstanding(),
            complete: row.complete(),
        }
    }
}

/// A repayment transaction. Zero `principal` / `interest` are omitted, `overpaymentPortion` appears only
/// on an overpayment.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RepaymentView {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    date: NaiveDate,
    #[serde(with = "crate::domain::money::number")]
    amount: Decimal,
    #[serde(with = "crate::domain::money::number", skip_serializing_if = "Decimal::is_zero")]
    principal: Decimal,
    #[serde(with = "crate::domain::money::number", skip_serializing_if = "Decimal::is_zero")]
    interest: Decimal,
    #[serde(with = "crate::domain::money::number", skip_serializing_if = "Decimal::is_zero")]
    overpayment_portion: Decimal,
    reversed: bool,
    status: &'static str,
}

impl From<&Repayment> for RepaymentView {
    fn from(r: &Repayment) -> Self {
        RepaymentView {
            id: r.id.to_string(),
            kind: "Repayment",
            date: r.date,
            amount: r.amount,
            principal: r.principal,
            interest: r.interest,
            overpayment_portion: r.overpayment,
            reversed: false,
            status: "posted",
        }
    }
}

/// The loan's repayments, newest (last posted) first.
pub(crate) fn history(loan: &Loan) -> Vec<RepaymentView> {
    loan.repayments.iter().rev().map(RepaymentView::from).collect()
}

/// Renders a loan as of the business date `today` (which decides `overdue`), with `quirks` applied.
pub(crate) fn loan_view(loan: &Loan, today: NaiveDate, quirks: SandboxQuirks) -> LoanView {
    let balances = loan.balances();
    // Only an Active loan owes anything: settled loans (Closed, Overpaid) and loans mid-rollback have
    // no next due and are never overdue, whatever their schedule rows say.
    let owing = loan.status == LoanStatus::Active;
    let next = if owing { schedule::next_due(&loan.schedule) } else { None };
    let (next_due_date, next_due_amount) = match next {
        Some((date, amount)) => (DueDate::On(date), Some(amount)),
        None if quirks.empty_next_due => (DueDate::Empty, Some(Decimal::ZERO)),
        None => (DueDate::Null, None),
    };
    let (fineract_fees, docs_fees) =
        if quirks.docs_fee_names { (None, Some(Decimal::ZERO)) } else { (Some(Decimal::ZERO), None) };
    LoanView {
        id: loan.id.to_string(),
        account_no: account_no(loan.id),
        external_id: loan.external_id.clone(),
        customer_id: loan.customer_id.to_string(),
        customer_name: loan.customer_name.clone(),
        loan_product_id: loan.product.id.clone(),
        loan_product_name: loan.product.name.clone(),
        status: loan.status.label(),
        principal: loan.principal,
        approved_principal: loan.principal,
        currency_code: loan.product.currency_code.clone(),
        term_frequency: loan.product.term_frequency(),
        number_of_repayments: loan.product.number_of_repayments,
        interest_rate_per_period: loan.product.interest_rate_per_period,
        principal_disbursed: balances.principal_disbursed,
        principal_paid: balances.principal_paid,
        principal_outstanding: balances.principal_outstanding(),
        interest_charged: balances.interest_charged,
        interest_paid: balances.interest_paid,
        interest_outstanding: balances.interest_outstanding(),
        fee_charges_charged: fineract_fees,
        fee_charges_paid: fineract_fees,
        fee_charges_outstanding: fineract_fees,
        penalty_charges_charged: fineract_fees,
        penalty_charges_paid: fineract_fees,
        penalty_charges_outstanding: fineract_fees,
        fee_charged: docs_fees,
        fee_paid: docs_fees,
        fee_outstanding: docs_fees,
        penalty_charged: docs_fees,
        penalty_paid: docs_fees,
        penalty_outstanding: docs_fees,
        total_repayment: balances.total_repayment(),
        total_outstanding: balances.total_outstanding(),
        total_overpaid: loan.total_overpaid,
        next_due_date,
        next_due_amount,
        overdue: owing && schedule::overdue(&loan.schedule, today),
        repayment_schedule: loan.schedule.iter().map(ScheduleRowView::from).collect(),
        repayment_history: history(loan),
    }
}
