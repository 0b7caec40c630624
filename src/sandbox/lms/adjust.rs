//! `POST .../adjust-disbursement-date` (docs/lms.md, used by the gateway per docs/lms.md): moves
//! the disbursal date of an Active loan to the day the wallet credit actually landed and rebuilds the
//! schedule from it. The new date must be on or after the original and not in the future; a loan with
//! repayments is refused. Moving to the current date again is a no-op, so the call can be repeated.

use actix_web::HttpResponse;
use chrono::NaiveDate;
use serde::Deserialize;

use super::auth::Api;
use super::errors::ApiError;
use super::interest;
use super::loan_view::loan_view;
use super::params::{json_body, LoanKey};
use super::records::LoanStatus;
use super::schedule;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdjustBody {
    actual_disbursement_date: Option<String>,
    note: Option<String>,
}

pub(crate) async fn adjust_route(
    Api(lms): Api,
    key: LoanKey,
    body: actix_web::web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: AdjustBody = json_body(&body)?;
    let raw =
        body.actual_disbursement_date.ok_or_else(|| ApiError::invalid_field("actualDisbursementDate", "required"))?;
    let date = NaiveDate::parse_from_str(&raw, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid_field("actualDisbursementDate", "must be a YYYY-MM-DD date"))?;
    let (today, quirks) = (lms.today(), lms.config().quirks);
    let view = lms.with_state(|s| {
        let loan = s.loan_mut(&key)?;
        if loan.status != LoanStatus::Active {
            return Err(ApiError::aborted(format!("{key} is not Active (status: {})", loan.status.label())));
        }
        if !loan.repayments.is_empty() {
            return Err(ApiError::aborted(format!("{key} has repayments; the disbursement date can no longer move")));
        }
        if date < loan.disbursed_on || date > today {
            return Err(ApiError::permission_denied(format!(
                "actualDisbursementDate {date} must be between {} and today ({today})",
                loan.disbursed_on
            )));
        }
        if date != loan.disbursed_on {
            let terms = loan.product.terms(loan.principal);
            let interest = interest::total_interest(loan.product.interest_rule, &terms, date)
                .ok_or_else(|| ApiError::internal("interest overflows the decimal range"))?;
            loan.schedule = schedule::build(&terms, interest, date)
                .ok_or_else(|| ApiError::internal("repayment schedule leaves the calendar"))?;
            loan.disbursed_on = date;
            loan.notes.extend(body.note.map(|n| format!("adjust-disbursement-date: {n}")));
        }
        Ok(loan_view(loan, today, quirks))
    })?;
    Ok(HttpResponse::Ok().json(view))
}
