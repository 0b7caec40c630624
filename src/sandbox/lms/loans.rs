//! Loans (docs/lms.md, 6.8, 6.9): create (submit + approve + disburse in one call), list with filters and
//! paging, and get by externalId or id. Create reads `customerId` as the configured generation documents
//! it (an externalId, or the integer LMS id).

use std::collections::HashMap;

use actix_web::{web, HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Api;
use super::customers::check_external_id;
use super::errors::ApiError;
use super::generation::{customer_ref, CustomerRef, SandboxGeneration};
use super::interest;
use super::loan_view::{loan_view, LoanView};
use super::paging::PageRequest;
use super::params::{json_body, numeric_id, LoanKey, Problems, Query, VANISHED};
use super::records::{Customer, Loan, LoanStatus, KNOWN_STATUSES};
use super::schedule;
use super::state::{SandboxLms, State};

/// A status filter scans at most this many loans, like the real API.
const STATUS_SCAN_LIMIT: usize = 1000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    /// A string externalId (current) or an integer id (legacy): read per generation.
    customer_id: Option<Value>,
    /// Documented as an integer; an all-digit string is tolerated.
    product_id: Option<Value>,
    #[serde(default, with = "crate::domain::money::option")]
    principal: Option<Decimal>,
    external_id: Option<String>,
}

/// A validated create request.
pub(crate) struct NewLoan {
    pub customer: CustomerRef,
    pub product_id: String,
    pub principal: Decimal,
    /// Optional in both generations; a loan without one is reachable by its LMS id only.
    pub external_id: Option<String>,
}

/// Reads a `productId`: a JSON integer, or a non-empty string (all-digit or not: it is then simply not
/// found).
pub(crate) fn product_id(value: Value, problems: &mut Problems) -> Option<String> {
    match value {
        Value::Number(n) if n.to_string().bytes().all(|b| b.is_ascii_digit()) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s),
        Value::Null => {
            problems.add("productId", "required");
            None
        }
        _ => {
            problems.add("productId", "must be an integer product id");
            None
        }
    }
}

fn validate(generation: SandboxGeneration, body: CreateBody) -> Result<NewLoan, ApiError> {
    let mut problems = Problems::default();
    let customer = customer_ref(generation, body.customer_id.unwrap_or(Value::Null), &mut problems);
    let product = problems.require("productId", body.product_id).and_then(|v| product_id(v, &mut problems));
    let principal = problems.require("principal", body.principal);
    if principal.is_some_and(|p| p <= Decimal::ZERO) {
        problems.add("principal", "must be greater than 0");
    }
    if let Some(ext) = &body.external_id {
        check_external_id(&mut problems, "externalId", ext);
    }
    problems.check()?;
    match (customer, product, principal) {
        (Some(customer), Some(product_id), Some(principal)) => {
            Ok(NewLoan { customer, product_id, principal: principal.normalize(), external_id: body.external_id })
        }
        _ => Err(ApiError::internal(VANISHED)),
    }
}

/// The borrower named by a create request, or `not_found`.
fn borrower(state: &State, customer: &CustomerRef) -> Result<Customer, ApiError> {
    let found = match customer {
        CustomerRef::External(ext) => state.customer_by_external(ext),
        CustomerRef::Id(digits) => digits.parse().ok().and_then(|id: u64| state.customers.get(&id)),
    };
    found.cloned().ok_or_else(|| match customer {
        CustomerRef::External(ext) => ApiError::not_found(format!("Customer with externalId {ext} does not exist")),
        CustomerRef::Id(id) => ApiError::not_found(format!("Customer with id {id} does not exist")),
    })
}

impl SandboxLms {
    /// Creates an Active loan disbursed today, per docs/lms.md and the product's interest rule.
    pub(crate) fn create_loan(&self, new: NewLoan) -> Result<LoanView, ApiError> {
        let today = self.today();
        let quirks = self.config().quirks;
        let product =
            self.config().products.iter().find(|p| p.id == new.product_id).cloned().ok_or_else(|| {
                ApiError::not_found(format!("Loan product with id {} does not exist", new.product_id))
            })?;
        self.with_state(|s| {
            let customer = borrower(s, &new.customer)?;
            // An incomplete or inactive product is the caller's choice of product, not a missing one.
            let (min, max) = product.lending_range().map_err(|e| ApiError::invalid_field("productId", e))?;
            if new.principal < min || new.principal > max {
                return Err(ApiError::invalid_field("principal", format!("must be between {min} and {max}")));
            }
            if !customer.active() {
                return Err(ApiError::aborted(format!(
                    "Customer with externalId {} is not active",
                    customer.external_id
                )));
            }
            if let Some(ext) = &new.external_id {
                if s.loan_ids.contains_key(ext) {
                    return Err(ApiError::aborted(format!("Loan with externalId {ext} already exists")));
                }
            }
            let terms = product.terms(new.principal);
            let interest = interest::total_interest(product.interest_rule, &terms, today)
                .ok_or_else(|| ApiError::internal("interest overflows the decimal range"))?;
            let rows = schedule::build(&terms, interest, today)
                .ok_or_else(|| ApiError::internal("repayment schedule leaves the calendar"))?;
            let id = s.next_loan_id();
            let loan = Loan {
                id,
                external_id: new.external_id.clone(),
                customer_id: customer.id,
                customer_name: customer.display_name(),
                product,
                principal: new.principal,
                status: LoanStatus::Active,
                disbursed_on: today,
                schedule: rows,
                repayments: Vec::new(),
                idempotency_keys: HashMap::new(),
                total_overpaid: Decimal::ZERO,
                notes: Vec::new(),
            };
            let view = loan_view(&loan, today, quirks);
            if let Some(ext) = new.external_id {
                s.loan_ids.insert(ext, id);
            }
            s.loans.insert(id, loan);
            Ok(view)
        })
    }
}

/// `POST /v1/loans`: `200` with the Active loan.
pub(crate) async fn create(Api(lms): Api, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let new = validate(lms.config().generation, json_body(&body)?)?;
    Ok(HttpResponse::Ok().json(lms.create_loan(new)?))
}

/// `GET /v1/loans/external/{ext}` and `GET /v1/loans/{id}`.
pub(crate) async fn get(Api(lms): Api, key: LoanKey) -> Result<HttpResponse, ApiError> {
    let (today, quirks) = (lms.today(), lms.config().quirks);
    let view = lms.with_state(|s| s.loan(&key).map(|loan| loan_view(loan, today, quirks)))?;
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /v1/loans?customerExternalId=|customerId=&status=&page=&rows=&orderBy=&sortOrder=`.
pub(crate) async fn list(Api(lms): Api, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(&req)?;
    let paging = PageRequest::from_query(&query)?;
    let status = match query.get("status").filter(|s| !s.is_empty()) {
        None => None,
        Some(wanted) => Some(
            KNOWN_STATUSES
                .iter()
                .find(|known| known.eq_ignore_ascii_case(wanted))
                .copied()
                .ok_or_else(|| ApiError::invalid_field("status", format!("unknown loan status {wanted:?}")))?,
        ),
    };
    let by_external = query.get("customerExternalId").filter(|s| !s.is_empty());
    let by_id = query.get("customerId").filter(|s| !s.is_empty());
    if by_external.is_some() && by_id.is_some() {
        return Err(ApiError::invalid_field("customerId", "cannot be combined with customerExternalId"));
    }
    let by_id = by_id.map(|raw| numeric_id("customerId", raw)).transpose()?;
    let (today, quirks) = (lms.today(), lms.config().quirks);
    let views: Vec<LoanView> = lms.with_state(|s| {
        let customer = match (by_external, by_id) {
            (Some(ext), _) => Some(
                s.customer_by_external(ext)
                    .map(|c| c.id)
                    .ok_or_else(|| ApiError::not_found(format!("Customer with externalId {ext} does not exist")))?,
            ),
            (None, Some(id)) if !s.customers.contains_key(&id) => {
                return Err(ApiError::not_found(format!("Customer with id {id} does not exist")));
            }
            (None, id) => id,
        };
        let of_customer = s.loans.values().filter(|l| customer.is_none_or(|c| l.customer_id == c));
        let mut found: Vec<&Loan> = match status {
            Some(label) => of_customer.take(STATUS_SCAN_LIMIT).filter(|l| l.status.label() == label).collect(),
            None => of_customer.collect(),
        };
        found.sort_by(|a, b| {
            let ascending = match paging.order_by.as_deref() {
                Some("principal") => a.principal.cmp(&b.principal),
                Some("expectedDisbursementDate") => a.disbursed_on.cmp(&b.disbursed_on),
                _ => std::cmp::Ordering::Equal,
            };
            paging.direct(ascending.then(a.id.cmp(&b.id)))
        });
        Ok(found.into_iter().map(|l| loan_view(l, today, quirks)).collect())
    })?;
    Ok(HttpResponse::Ok().json(paging.paginate(views)))
}
