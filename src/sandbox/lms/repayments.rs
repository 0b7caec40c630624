//! Repayments (docs/lms.md): post one (idempotent per loan through `idempotencyKey`), read one, and list
//! a loan's repayments newest first. What a post honours beyond the amount depends on the generation and
//! quirks ([`RepaymentRules`]): the legacy generation dates every post itself and never dedupes.

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Api;
use super::errors::ApiError;
use super::generation::RepaymentRules;
use super::loan_view::{history, RepaymentView};
use super::paging::PageRequest;
use super::params::{json_body, path_param, LoanKey, Problems, Query, VANISHED};
use super::records::{LoanStatus, Repayment};
use super::schedule::{self, Balances};

/// Longest `idempotencyKey` accepted.
const MAX_IDEMPOTENCY_KEY: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RepayBody {
    #[serde(default, with = "crate::domain::money::option")]
    transaction_amount: Option<Decimal>,
    /// Loosely typed: a generation that ignores the field must not refuse it for its type either.
    transaction_date: Option<Value>,
    idempotency_key: Option<Value>,
}

/// An honoured optional text field: absent or `null` is `None`, another JSON type is `invalid_argument`.
fn text(field: &str, value: Option<Value>) -> Result<Option<String>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid_field(field, "must be a string")),
    }
}

/// Strict `YYYY-MM-DD`: chrono alone would also take unpadded months and days.
fn parse_date(text: &str) -> Option<NaiveDate> {
    (text.len() == 10).then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()).flatten()
}

/// `POST /v1/loans/external/{ext}/repayments` and `POST /v1/loans/{id}/repayments`.
///
/// Order of checks: body syntax and key shape; the loan; an idempotent replay (before the amount and the
/// status, so a replay always returns the original transaction); amount and date; the loan's status
/// (`failed_precondition`); the date rules (`permission_denied`). A field the rules do not honour is not
/// read at all, so it can neither be refused nor change the outcome.
pub(crate) async fn post(Api(lms): Api, key: LoanKey, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: RepayBody = json_body(&body)?;
    let rules = RepaymentRules::of(lms.config().generation, lms.config().quirks);
    let idempotency_key =
        if rules.honour_key { text("idempotencyKey", body.idempotency_key)?.filter(|k| !k.is_empty()) } else { None };
    let requested_date = if rules.honour_date { text("transactionDate", body.transaction_date)? } else { None };
    if idempotency_key.as_ref().is_some_and(|k| k.chars().count() > MAX_IDEMPOTENCY_KEY) {
        return Err(ApiError::invalid_field(
            "idempotencyKey",
            format!("must be at most {MAX_IDEMPOTENCY_KEY} characters"),
        ));
    }
    let today = lms.today();
    let view = lms.with_state(|s| {
        let loan = s.loan(&key)?;
        if let Some(index) = idempotency_key.as_ref().and_then(|k| loan.idempotency_keys.get(k)) {
            let original = loan
                .repayments
                .get(*index)
                .ok_or_else(|| ApiError::internal(format!("idempotency index of {key} names a missing transaction")))?;
            return Ok(RepaymentView::from(original));
        }
        let mut problems = Problems::default();
        let amount = problems.require("transactionAmount", body.transaction_amount);
        if amount.is_some_and(|a| a <= Decimal::ZERO) {
            problems.add("transactionAmount", "must be greater than 0");
        }
        let date = match requested_date.as_deref() {
            None | Some("") => Some(today),
            Some(text) => {
                let date = parse_date(text);
                if date.is_none() {
                    problems.add("transactionDate", "must be a date in YYYY-MM-DD format");
                }
                date
            }
        };
        problems.check()?;
        let (Some(amount), Some(date)) = (amount, date) else { return Err(ApiError::internal(VANISHED)) };
        if loan.status != LoanStatus::Active {
            return Err(ApiError::failed_precondition(format!(
                "{key} is not active (status: {})",
                loan.status.label()
            )));
        }
        if date > today {
            return Err(ApiError::permission_denied(format!(
                "transaction date {date} is in the future (business date {today})"
            )));
        }
        if date < loan.disbursed_on {
            return Err(ApiError::permission_denied(format!(
                "transaction date {date} is before the disbursement date {}",
                loan.disbursed_on
            )));
        }
        // Validation passed: only now take an id and the loan for writing.
        let transaction_id = s.next_transaction_id();
        let loan = s.loan_mut(&key)?;
        let amount = amount.normalize();
        let allocation = schedule::allocate(&mut loan.schedule, amount);
        let repayment = Repayment {
            id: transaction_id,
            date,
            amount,
            principal: allocation.principal,
            interest: allocation.interest,
            overpayment: allocation.overpayment,
        };
        loan.total_overpaid += allocation.overpayment;
        if Balances::of(&loan.schedule).total_outstanding() <= Decimal::ZERO {
            loan.status = if loan.total_overpaid > Decimal::ZERO {
                LoanStatus::Overpaid
            } else {
                LoanStatus::ClosedObligationsMet
            };
        }
        let view = RepaymentView::from(&repayment);
        if let Some(k) = idempotency_key {
            loan.idempotency_keys.insert(k, loan.repayments.len());
        }
        loan.repayments.push(repayment);
        Ok(view)
    })?;
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /v1/loans/external/{ext}/repayments/{transactionId}` and `GET /v1/loans/{id}/repayments/{transactionId}`.
pub(crate) async fn get(Api(lms): Api, key: LoanKey, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let transaction = path_param(&req, "transactionId")?;
    let view = lms.with_state(|s| {
        let loan = s.loan(&key)?;
        // Transaction ids are opaque to clients, so a non-numeric one is simply not found.
        transaction
            .parse::<u64>()
            .ok()
            .and_then(|id| loan.repayment(id))
            .map(RepaymentView::from)
            .ok_or_else(|| ApiError::not_found(format!("Transaction {transaction} does not exist on {key}")))
    })?;
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /v1/loans/external/{ext}/repayments?page=&rows=`: newest first.
pub(crate) async fn list(Api(lms): Api, key: LoanKey, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let paging = PageRequest::from_query(&Query::parse(&req)?)?;
    let views = lms.with_state(|s| s.loan(&key).map(history))?;
    Ok(HttpResponse::Ok().json(paging.paginate(views)))
}
