//! Loan products: the checked form of a [`SeedProduct`], its wire shape (§6.4) and the
//! `GET /v1/loan-products` handler.

use actix_web::HttpResponse;
use rust_decimal::Decimal;
use serde::Serialize;

use super::auth::Api;
use super::errors::ApiError;
use super::schedule::{Frequency, RateBasis, Terms};
use super::settings::SeedProduct;

/// A validated product, serialised exactly as the API shows it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Product {
    pub id: String,
    pub name: String,
    pub short_name: String,
    pub description: String,
    pub currency_code: String,
    #[serde(with = "crate::domain::money::number")]
    pub principal: Decimal,
    #[serde(with = "crate::domain::money::number")]
    pub min_principal: Decimal,
    #[serde(with = "crate::domain::money::number")]
    pub max_principal: Decimal,
    pub number_of_repayments: u32,
    pub repayment_every: u32,
    pub repayment_frequency_type: String,
    #[serde(with = "crate::domain::money::number")]
    pub interest_rate_per_period: Decimal,
    pub interest_rate_frequency_type: String,
    pub amortization_type: String,
    pub interest_type: String,
    pub interest_calculation_period_type: String,
    pub status: String,
    #[serde(skip)]
    frequency: Frequency,
    #[serde(skip)]
    basis: RateBasis,
}

impl Product {
    pub fn from_seed(seed: &SeedProduct) -> Result<Self, String> {
        let frequency = match seed.repayment_frequency_type.as_str() {
            "Days" => Frequency::Days,
            "Weeks" => Frequency::Weeks,
            "Months" => Frequency::Months,
            "Years" => Frequency::Years,
            other => return Err(format!("repayment_frequency_type {other:?} is not Days, Weeks, Months or Years")),
        };
        let basis = match seed.interest_rate_frequency_type.as_str() {
            "Whole term" => RateBasis::WholeTerm,
            "Per day" | "Per week" | "Per month" | "Per year" => RateBasis::PerPeriod,
            other => return Err(format!("interest_rate_frequency_type {other:?} is not `Whole term` or `Per …`")),
        };
        if seed.id.is_empty() {
            return Err("id must not be empty".to_owned());
        }
        if seed.number_of_repayments == 0 || seed.repayment_every == 0 {
            return Err("number_of_repayments and repayment_every must be at least 1".to_owned());
        }
        if seed.min_principal <= Decimal::ZERO || seed.min_principal > seed.max_principal {
            return Err("min_principal must be positive and at most max_principal".to_owned());
        }
        if seed.principal < seed.min_principal || seed.principal > seed.max_principal {
            return Err("principal must lie between min_principal and max_principal".to_owned());
        }
        if seed.interest_rate_per_period < Decimal::ZERO {
            return Err("interest_rate_per_period must not be negative".to_owned());
        }
        Ok(Product {
            id: seed.id.clone(),
            name: seed.name.clone(),
            short_name: seed.short_name.clone(),
            description: seed.description.clone(),
            currency_code: seed.currency_code.clone(),
            principal: seed.principal.normalize(),
            min_principal: seed.min_principal.normalize(),
            max_principal: seed.max_principal.normalize(),
            number_of_repayments: seed.number_of_repayments,
            repayment_every: seed.repayment_every,
            repayment_frequency_type: seed.repayment_frequency_type.clone(),
            interest_rate_per_period: seed.interest_rate_per_period.normalize(),
            interest_rate_frequency_type: seed.interest_rate_frequency_type.clone(),
            amortization_type: seed.amortization_type.clone(),
            interest_type: seed.interest_type.clone(),
            interest_calculation_period_type: seed.interest_calculation_period_type.clone(),
            status: seed.status.clone(),
            frequency,
            basis,
        })
    }

    /// The schedule terms of a loan of `principal` on this product.
    pub fn terms(&self, principal: Decimal) -> Terms {
        Terms {
            principal,
            rate: self.interest_rate_per_period,
            basis: self.basis,
            repayments: self.number_of_repayments,
            every: self.repayment_every,
            frequency: self.frequency,
        }
    }

    /// `termFrequency` of a loan: the whole term in repayment units.
    pub fn term_frequency(&self) -> u64 {
        u64::from(self.number_of_repayments) * u64::from(self.repayment_every)
    }
}

#[derive(Serialize)]
struct ProductList<'a> {
    items: &'a [Product],
}

/// `GET /v1/loan-products`: every configured product, `items` only (no paging fields, as documented).
pub(crate) async fn list(Api(lms): Api) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ProductList { items: &lms.config().products }))
}
