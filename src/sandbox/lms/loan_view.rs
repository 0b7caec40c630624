//! Wire shapes of loans (§6.7) and repayment transactions (§6.11–6.12), derived from the stored records.
//! Every amount goes through the exact money serializer.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use super::customers::account_no;
use super::records::{Loan, Repayment};
use super::schedule::{self, Instalment};

/// The loan object, identical for create, single reads and list rows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LoanView {
    id: String,
    account_no: String,
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
    #[serde(with = "crate::domain::money::number")]
    fee_charges_charged: Decimal,
    #[serde(with = "crate::domain::money::number")]
    fee_charges_paid: Decimal,
    #[serde(with = "crate::domain::money::number")]
    fee_charges_outstanding: Decimal,
    #[serde(with = "crate::domain::money::number")]
    penalty_charges_charged: Decimal,
    #[serde(with = "crate::domain::money::number")]
    penalty_charges_paid: Decimal,
    #[serde(with = "crate::domain::money::number")]
    penalty_charges_outstanding: Decimal,
    #[serde(with = "crate::domain::money::number")]
    total_repayment: Decimal,
    #[serde(with = "crate::domain::money::number")]
    total_outstanding: Decimal,
    #[serde(with = "crate::domain::money::number")]
    total_overpaid: Decimal,
    next_due_date: Option<NaiveDate>,
    #[serde(with = "crate::domain::money::option")]
    next_due_amount: Option<Decimal>,
    overdue: bool,
    repayment_schedule: Vec<ScheduleRowView>,
    repayment_history: Vec<RepaymentView>,
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

/// Renders a loan as of the business date `today` (which decides `overdue`).
pub(crate) fn loan_view(loan: &Loan, today: NaiveDate) -> LoanView {
    let balances = loan.balances();
    let disbursed = loan.status.disbursed();
    let next = if disbursed { schedule::next_due(&loan.schedule) } else { None };
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
        fee_charges_charged: Decimal::ZERO,
        fee_charges_paid: Decimal::ZERO,
        fee_charges_outstanding: Decimal::ZERO,
        penalty_charges_charged: Decimal::ZERO,
        penalty_charges_paid: Decimal::ZERO,
        penalty_charges_outstanding: Decimal::ZERO,
        total_repayment: balances.total_repayment(),
        total_outstanding: balances.total_outstanding(),
        total_overpaid: loan.total_overpaid,
        next_due_date: next.map(|(date, _)| date),
        next_due_amount: next.map(|(_, amount)| amount),
        overdue: disbursed && schedule::overdue(&loan.schedule, today),
        repayment_schedule: loan.schedule.iter().map(ScheduleRowView::from).collect(),
        repayment_history: history(loan),
    }
}
