//! Rollback and its manual steps. A loan is unwound one durable step at a time:
//! `Active` → undo-disbursal → `Approved` → undo-approval → `Submitted and pending approval` → delete.
//! A rollback call runs the remaining steps from the current status, so an interrupted one resumes.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::auth::Api;
use super::errors::ApiError;
use super::loan_view::loan_view;
use super::params::{json_body, LoanKey};
use super::records::{Loan, LoanStatus};
use super::state::State;

/// One undo step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
enum Step {
    UndoDisbursal,
    UndoApproval,
    Delete,
}

#[derive(Deserialize)]
struct NoteBody {
    note: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RollbackReport {
    loan_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<String>,
    /// The steps this call ran, in order.
    steps: Vec<Step>,
}

/// `Active` → `Approved`; refused once money has come back or the loan is not Active.
fn undo_disbursal(loan: &mut Loan, key: &LoanKey, note: Option<&str>) -> Result<(), ApiError> {
    if !loan.repayments.is_empty() {
        return Err(ApiError::aborted(format!("{key} has repayments; reverse them first")));
    }
    if loan.status != LoanStatus::Active {
        return Err(ApiError::aborted(format!("{key} is not Active (status: {})", loan.status.label())));
    }
    loan.status = LoanStatus::Approved;
    loan.notes.extend(note.map(|n| format!("undo-disbursal: {n}")));
    Ok(())
}

/// `Approved` → `Submitted and pending approval`.
fn undo_approval(loan: &mut Loan, key: &LoanKey, note: Option<&str>) -> Result<(), ApiError> {
    match loan.status {
        LoanStatus::Approved => {
            loan.status = LoanStatus::SubmittedAndPendingApproval;
            loan.notes.extend(note.map(|n| format!("undo-approval: {n}")));
            Ok(())
        }
        LoanStatus::SubmittedAndPendingApproval => Err(ApiError::aborted(format!("{key} was never approved"))),
        status => Err(ApiError::aborted(format!("{key} is still disbursed (status: {})", status.label()))),
    }
}

/// Deletes a pending loan; any other status is `permission_denied` and leaves the loan untouched.
fn delete(state: &mut State, key: &LoanKey) -> Result<(), ApiError> {
    let loan = state.loan(key)?;
    if loan.status != LoanStatus::SubmittedAndPendingApproval {
        return Err(ApiError::permission_denied(format!(
            "{key} can only be deleted while Submitted and pending approval (status: {})",
            loan.status.label()
        )));
    }
    let id = loan.id;
    state.remove_loan(id);
    Ok(())
}

fn run(state: &mut State, key: &LoanKey, step: Step, note: Option<&str>) -> Result<(), ApiError> {
    match step {
        Step::UndoDisbursal => undo_disbursal(state.loan_mut(key)?, key, note),
        Step::UndoApproval => undo_approval(state.loan_mut(key)?, key, note),
        Step::Delete => delete(state, key),
    }
}

/// `POST /v1/loans/external/{ext}/rollback` and `POST /v1/loans/{id}/rollback`; optional `{"note"}`.
pub(crate) async fn rollback(Api(lms): Api, key: LoanKey, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: NoteBody = json_body(&body)?;
    let report = lms.with_state(|s| {
        let loan = s.loan(&key)?;
        let (loan_id, external_id) = (loan.id.to_string(), loan.external_id.clone());
        if loan.status.settled() {
            return Err(ApiError::aborted(format!(
                "{key} is settled ({}) and cannot be rolled back",
                loan.status.label()
            )));
        }
        if !loan.repayments.is_empty() {
            return Err(ApiError::aborted(format!("{key} has repayments; reverse them first")));
        }
        let plan: &[Step] = match loan.status {
            LoanStatus::Active => &[Step::UndoDisbursal, Step::UndoApproval, Step::Delete],
            LoanStatus::Approved => &[Step::UndoApproval, Step::Delete],
            LoanStatus::SubmittedAndPendingApproval => &[Step::Delete],
            LoanStatus::ClosedObligationsMet | LoanStatus::Overpaid => &[],
        };
        // The stop fault is consumed by the first rollback that gets this far.
        let stop_after = s.rollback_stop.take().map(|k| k as usize);
        let mut steps = Vec::new();
        for step in plan {
            if stop_after == Some(steps.len()) {
                return Err(ApiError::internal(format!(
                    "injected fault: rollback of {key} interrupted after {} step(s)",
                    steps.len()
                )));
            }
            run(s, &key, *step, body.note.as_deref())?;
            steps.push(*step);
        }
        Ok(RollbackReport { loan_id, external_id, steps })
    })?;
    Ok(HttpResponse::Ok().json(report))
}

/// `POST .../undo-disbursal`: `200` with the loan, now `Approved`.
pub(crate) async fn undo_disbursal_route(
    Api(lms): Api,
    key: LoanKey,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: NoteBody = json_body(&body)?;
    let (today, quirks) = (lms.today(), lms.config().quirks);
    let view = lms.with_state(|s| {
        let loan = s.loan_mut(&key)?;
        undo_disbursal(loan, &key, body.note.as_deref())?;
        Ok(loan_view(loan, today, quirks))
    })?;
    Ok(HttpResponse::Ok().json(view))
}

/// `POST .../undo-approval`: `200` with the loan, now `Submitted and pending approval`.
pub(crate) async fn undo_approval_route(
    Api(lms): Api,
    key: LoanKey,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let body: NoteBody = json_body(&body)?;
    let (today, quirks) = (lms.today(), lms.config().quirks);
    let view = lms.with_state(|s| {
        let loan = s.loan_mut(&key)?;
        undo_approval(loan, &key, body.note.as_deref())?;
        Ok(loan_view(loan, today, quirks))
    })?;
    Ok(HttpResponse::Ok().json(view))
}

/// `DELETE /v1/loans/external/{ext}` and `DELETE /v1/loans/{id}`: `204`, empty body.
pub(crate) async fn delete_route(Api(lms): Api, key: LoanKey) -> Result<HttpResponse, ApiError> {
    lms.with_state(|s| delete(s, &key))?;
    Ok(HttpResponse::NoContent().finish())
}
