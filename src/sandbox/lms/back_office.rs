//! Loans the lender's back office creates: they carry no `externalId`, so the gateway has no reference
//! of its own for them and can reach them only by LMS id or through the customer's loan list. The hook
//! `POST /sandbox/loans` and its Rust twin [`SandboxLms::seed_loan_without_external_id`] create one with
//! the same rules as `POST /v1/loans` (product, principal range, active customer), whatever the generation.

use actix_web::{web, HttpResponse};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use super::auth::Lms;
use super::errors::ApiError;
use super::generation::CustomerRef;
use super::loan_view::LoanView;
use super::loans::{product_id, NewLoan};
use super::params::{json_body, Problems, VANISHED};
use super::state::SandboxLms;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeedLoanBody {
    customer_external_id: Option<String>,
    /// An integer or a string, as on loan create.
    product_id: Option<Value>,
    #[serde(default, with = "crate::domain::money::option")]
    principal: Option<Decimal>,
}

impl SandboxLms {
    /// Creates an Active loan without an externalId for the customer with `customer_external_id`, as if
    /// the lender's back office had created it. Returns the loan's LMS id; the error is the API error the
    /// hook would answer (unknown customer or product, principal out of range, inactive customer…).
    pub fn seed_loan_without_external_id(
        &self,
        customer_external_id: &str,
        product_id: &str,
        principal: Decimal,
    ) -> Result<String, String> {
        self.seed_loan(
            Some(customer_external_id.to_owned()),
            Some(Value::String(product_id.to_owned())),
            Some(principal),
        )
        .map(|view| view.id().to_owned())
        .map_err(|e| e.to_string())
    }

    fn seed_loan(
        &self,
        customer: Option<String>,
        product: Option<Value>,
        principal: Option<Decimal>,
    ) -> Result<LoanView, ApiError> {
        let mut problems = Problems::default();
        let customer = problems.require_text("customerExternalId", customer);
        let product = problems.require("productId", product).and_then(|v| product_id(v, &mut problems));
        let principal = problems.require("principal", principal);
        if principal.is_some_and(|p| p <= Decimal::ZERO) {
            problems.add("principal", "must be greater than 0");
        }
        problems.check()?;
        let (Some(customer), Some(product_id), Some(principal)) = (customer, product, principal) else {
            return Err(ApiError::internal(VANISHED));
        };
        self.create_loan(NewLoan {
            customer: CustomerRef::External(customer),
            product_id,
            principal: principal.normalize(),
            external_id: None,
        })
    }
}

/// `POST /sandbox/loans` with `{"customerExternalId", "productId", "principal"}` → `200` with the loan.
pub(crate) async fn seed_loan(Lms(lms): Lms, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let body: SeedLoanBody = json_body(&body)?;
    let view = lms.seed_loan(body.customer_external_id, body.product_id, body.principal)?;
    Ok(HttpResponse::Ok().json(view))
}
