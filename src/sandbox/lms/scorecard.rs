//! The credit scorecard: grade, score and limit from configuration (runtime override, then the
//! per-number table, then the default entry), with debt totals summed live from the customer's loans.

use actix_web::{HttpRequest, HttpResponse};
use rust_decimal::Decimal;
use serde::Serialize;

use super::auth::Api;
use super::errors::ApiError;
use super::params::path_param;
use super::settings::{ScorecardEntry, MAX_SCORECARD_KEY};
use super::state::SandboxLms;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ScorecardView {
    external_id: String,
    halopesa_grade: String,
    final_credit_score: u32,
    #[serde(with = "crate::domain::money::number")]
    final_credit_limit: Decimal,
    #[serde(with = "crate::domain::money::number")]
    total_outstanding: Decimal,
    #[serde(with = "crate::domain::money::number")]
    total_paid: Decimal,
    #[serde(with = "crate::domain::money::number")]
    available_credit_limit: Decimal,
    execution_period: &'static str,
}

/// Checks a scorecard key: 1 to 128 characters.
pub(crate) fn check_key(key: &str) -> Result<(), ApiError> {
    let length = key.chars().count();
    if length == 0 || length > MAX_SCORECARD_KEY {
        return Err(ApiError::invalid_field(
            "externalId",
            format!("must have 1 to {MAX_SCORECARD_KEY} characters, found {length}"),
        ));
    }
    Ok(())
}

impl SandboxLms {
    fn scorecard(&self, key: &str) -> ScorecardView {
        let config = self.config();
        let (entry, outstanding, paid) = self.with_state(|s| {
            let entry: ScorecardEntry = s
                .scorecards
                .get(key)
                .or_else(|| config.scorecards.get(key))
                .unwrap_or(&config.default_scorecard)
                .clone();
            let (mut outstanding, mut paid) = (Decimal::ZERO, Decimal::ZERO);
            if let Some(customer) = s.customer_by_external(key) {
                for loan in s.loans.values().filter(|l| l.customer_id == customer.id) {
                    let balances = loan.balances();
                    outstanding = outstanding.saturating_add(balances.total_outstanding());
                    paid = paid.saturating_add(balances.total_repayment());
                }
            }
            // The real scorecard reads 0 for both when it cannot reach the LMS.
            if s.scorecard_best_effort {
                (entry, Decimal::ZERO, Decimal::ZERO)
            } else {
                (entry, outstanding, paid)
            }
        });
        ScorecardView {
            external_id: key.to_owned(),
            halopesa_grade: entry.grade,
            final_credit_score: entry.credit_score,
            final_credit_limit: entry.credit_limit,
            total_outstanding: outstanding,
            total_paid: paid,
            // No top-ups: anything still owed makes the available limit 0.
            available_credit_limit: if outstanding.is_zero() { entry.credit_limit } else { Decimal::ZERO },
            execution_period: "0.01 seconds",
        }
    }
}

/// `GET /v1/credit-scorecard/{externalId}`: always `200` for a well-formed key, known or not.
pub(crate) async fn get(Api(lms): Api, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let key = path_param(&req, "externalId")?;
    check_key(&key)?;
    Ok(HttpResponse::Ok().json(lms.scorecard(&key)))
}
