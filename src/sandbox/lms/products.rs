//! Loan products: the checked form of a [`SeedProduct`], its wire shape, whether it can lend,
//! and the `GET /v1/loan-products` handler.

use actix_web::HttpResponse;
use rust_decimal::Decimal;
use serde::Serialize;

use super::auth::Api;
use super::errors::ApiError;
use super::interest::InterestRule;
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
    /// `null` on the wire when not configured, as some documented products show.
    #[serde(with = "crate::domain::money::option")]
    pub min_principal: Option<Decimal>,
    #[serde(with = "crate::domain::money::option")]
    pub max_principal: Option<Decimal>,
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
    #[serde(skip)]
    pub interest_rule: InterestRule,
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
        // Either bound may be missing (the product then refuses loans), but those given must make sense.
        if seed.min_principal.is_some_and(|min| min <= Decimal::ZERO)
            || seed.max_principal.is_some_and(|max| max <= Decimal::ZERO)
        {
            return Err("min_principal and max_principal must be positive".to_owned());
        }
        if let (Some(min), Some(max)) = (seed.min_principal, seed.max_principal) {
            if min > max {
                return Err("min_principal must be at most max_principal".to_owned());
            }
        }
        if seed.min_principal.is_some_and(|min| seed.principal < min)
            || seed.max_principal.is_some_and(|max| seed.principal > max)
        {
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
            min_principal: seed.min_principal.map(|d| d.normalize()),
            max_principal: seed.max_principal.map(|d| d.normalize()),
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
            interest_rule: seed.interest_rule,
        })
    }

    /// The principal range of a product that may lend; a product missing a bound or not `active` may not,
    /// and the error says why (loan create answers it as `invalid_argument` on `productId`).
    pub fn lending_range(&self) -> Result<(Decimal, Decimal), String> {
        if !self.status.eq_ignore_ascii_case("active") {
            return Err(format!("product {} is not active (status: {})", self.id, self.status));
        }
        match (self.min_principal, self.max_principal) {
            (Some(min), Some(max)) => Ok((min, max)),
            _ => Err(format!("product {} has no principal range configured", self.id)),
        }
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
