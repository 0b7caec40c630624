//! The LMS's view of one subscriber, as the page's loans panel shows it: whether the customer exists
//! and their loans, read through the gateway's own LMS client. Amounts stay exact: decimal strings.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::domain::Msisdn;
use crate::lms::{LmsClient, LmsError, Loan, LoanQuery};

/// At most this many loans are listed (the first page).
const ROWS: u32 = 20;

#[derive(Debug, Serialize)]
pub struct LoansView {
    pub msisdn: String,
    /// The LMS knows the subscriber (registration created the customer).
    pub registered: bool,
    pub loans: Vec<LoanView>,
}

#[derive(Debug, Serialize)]
pub struct LoanView {
    pub external_id: Option<String>,
    pub product: String,
    pub status: String,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub principal: Decimal,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub outstanding: Option<Decimal>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub repaid: Option<Decimal>,
    pub next_due_date: Option<NaiveDate>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub next_due_amount: Option<Decimal>,
}

impl From<Loan> for LoanView {
    fn from(loan: Loan) -> Self {
        LoanView {
            product: loan.loan_product_name.clone().or_else(|| loan.loan_product_id.clone()).unwrap_or_default(),
            status: loan.status.as_str().to_owned(),
            outstanding: loan.total_outstanding(),
            repaid: loan.total_repayment(),
            next_due_amount: loan.next_due_amount(),
            next_due_date: loan.next_due_date,
            principal: loan.principal,
            currency: loan.currency_code,
            external_id: loan.external_id,
        }
    }
}

/// The customer and the first page of their loans, every status (no loan query for a stranger).
pub async fn read(lms: &LmsClient, msisdn: &Msisdn) -> Result<LoansView, LmsError> {
    let view = |registered, loans| LoansView { msisdn: msisdn.as_str().to_owned(), registered, loans };
    if lms.get_customer(msisdn.as_str()).await?.is_none() {
        return Ok(view(false, Vec::new()));
    }
    let query = LoanQuery {
        customer_external_id: Some(msisdn.as_str().to_owned()),
        status: None,
        page: Some(1),
        rows: Some(ROWS),
        newest_first: false,
    };
    let loans = lms.list_loans(&query).await?;
    Ok(view(true, loans.items.into_iter().map(LoanView::from).collect()))
}
