//! Customers (docs/lms.md): create, get by externalId or id, point lookup / paged list, and close (the
//! admin-only route that makes a customer inactive, which is how tests reach the "inactive customer" case).

use actix_web::{web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::auth::Api;
use super::errors::ApiError;
use super::paging::PageRequest;
use super::params::{json_body, numeric_id, path_param, Problems, Query, VANISHED};
use super::records::{Customer, LoanStatus};

/// Longest externalId accepted (the Fineract column width).
pub(crate) const MAX_EXTERNAL_ID: usize = 100;

/// The docs/lms.md customer object.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CustomerView {
    id: String,
    account_no: String,
    external_id: String,
    status: &'static str,
    active: bool,
    office_id: &'static str,
    office_name: &'static str,
    firstname: String,
    lastname: &'static str,
    display_name: String,
    activation_date: NaiveDate,
    submitted_date: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    closed_date: Option<NaiveDate>,
}

impl From<&Customer> for CustomerView {
    fn from(c: &Customer) -> Self {
        CustomerView {
            id: c.id.to_string(),
            account_no: account_no(c.id),
            external_id: c.external_id.clone(),
            status: if c.active() { "Active" } else { "Closed" },
            active: c.active(),
            office_id: "1",
            office_name: "Head Office",
            firstname: c.external_id.clone(),
            lastname: "Customer",
            display_name: c.display_name(),
            activation_date: c.activation_date,
            submitted_date: c.activation_date,
            closed_date: c.closed_on,
        }
    }
}

/// `accountNo` is the id zero-padded to 9 digits.
pub(crate) fn account_no(id: u64) -> String {
    format!("{id:09}")
}

/// Checks an optional externalId's shape, recording problems under `field`.
pub(crate) fn check_external_id(problems: &mut Problems, field: &str, value: &str) {
    if value.is_empty() {
        problems.add(field, "must not be empty");
    } else if value.chars().count() > MAX_EXTERNAL_ID {
        problems.add(field, format!("must be at most {MAX_EXTERNAL_ID} characters"));
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    external_id: Option<String>,
}

/// `POST /v1/customers`: `200` with the new, already Active customer.
pub(crate) async fn create(Api(lms): Api, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: CreateBody = json_body(&body)?;
    let mut problems = Problems::default();
    let external_id = problems.require_text("externalId", body.external_id);
    if let Some(ext) = &external_id {
        check_external_id(&mut problems, "externalId", ext);
    }
    problems.check()?;
    let Some(external_id) = external_id else { return Err(ApiError::internal(VANISHED)) };
    let today = lms.today();
    let view = lms.with_state(|s| {
        if s.customer_ids.contains_key(&external_id) {
            return Err(ApiError::aborted(format!("Customer with externalId {external_id} already exists")));
        }
        let id = s.next_customer_id();
        let customer = Customer { id, external_id: external_id.clone(), activation_date: today, closed_on: None };
        let view = CustomerView::from(&customer);
        s.customers.insert(id, customer);
        s.customer_ids.insert(external_id, id);
        Ok(view)
    })?;
    Ok(HttpResponse::Ok().json(view))
}

/// `GET /v1/customers/external/{externalId}`.
pub(crate) async fn get_external(Api(lms): Api, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let external_id = path_param(&req, "externalId")?;
    let view = lms.with_state(|s| s.customer_by_external(&external_id).map(CustomerView::from));
    view.map(|v| HttpResponse::Ok().json(v))
        .ok_or_else(|| ApiError::not_found(format!("Customer with externalId {external_id} does not exist")))
}

/// `GET /v1/customers/{id}`: `invalid_argument` for a non-numeric id.
pub(crate) async fn get_by_id(Api(lms): Api, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let raw = path_param(&req, "id")?;
    let id = numeric_id("customerId", &raw)?;
    let view = lms.with_state(|s| s.customers.get(&id).map(CustomerView::from));
    view.map(|v| HttpResponse::Ok().json(v))
        .ok_or_else(|| ApiError::not_found(format!("Customer with id {id} does not exist")))
}

/// `GET /v1/customers?externalId=`: a point lookup (never 404), else the paged list.
pub(crate) async fn list(Api(lms): Api, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(&req)?;
    let paging = PageRequest::from_query(&query)?;
    if let Some(external_id) = query.get("externalId") {
        // Paging shapes the response but not the result of a point lookup.
        let found: Vec<CustomerView> =
            lms.with_state(|s| s.customer_by_external(external_id).map(CustomerView::from).into_iter().collect());
        let total = found.len() as u64;
        return Ok(HttpResponse::Ok().json(super::paging::Page {
            items: found,
            total,
            page: paging.page,
            rows_per_page: paging.rows,
        }));
    }
    let mut customers: Vec<Customer> = lms.with_state(|s| s.customers.values().cloned().collect());
    customers.sort_by(|a, b| {
        let ascending = match paging.order_by.as_deref() {
            Some("displayName") => a.display_name().cmp(&b.display_name()),
            Some("submittedDate" | "activationDate") => a.activation_date.cmp(&b.activation_date),
            _ => std::cmp::Ordering::Equal,
        };
        paging.direct(ascending.then(a.id.cmp(&b.id)))
    });
    let views: Vec<CustomerView> = customers.iter().map(CustomerView::from).collect();
    Ok(HttpResponse::Ok().json(paging.paginate(views)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloseBody {
    // `closureReasonId` is accepted and ignored: the sandbox keeps no closure reasons.
    closure_date: Option<NaiveDate>,
}

/// `POST /v1/customers/external/{externalId}/close`: final; `aborted` while the customer has open loans.
pub(crate) async fn close(Api(lms): Api, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let external_id = path_param(&req, "externalId")?;
    let body: CloseBody = json_body(&body)?;
    let closed_on = body.closure_date.unwrap_or_else(|| lms.today());
    let view = lms.with_state(|s| {
        let id = *s
            .customer_ids
            .get(&external_id)
            .ok_or_else(|| ApiError::not_found(format!("Customer with externalId {external_id} does not exist")))?;
        let open = s.loans.values().any(|l| {
            l.customer_id == id
                && matches!(
                    l.status,
                    LoanStatus::Active | LoanStatus::Approved | LoanStatus::SubmittedAndPendingApproval
                )
        });
        let customer = s
            .customers
            .get_mut(&id)
            .ok_or_else(|| ApiError::internal(format!("customer index names missing customer {id}")))?;
        if !customer.active() {
            return Err(ApiError::aborted(format!("Customer with externalId {external_id} is already closed")));
        }
        if open {
            return Err(ApiError::aborted(format!("Customer with externalId {external_id} has open loans")));
        }
        customer.closed_on = Some(closed_on);
        Ok(CustomerView::from(&*customer))
    })?;
    Ok(HttpResponse::Ok().json(view))
}
