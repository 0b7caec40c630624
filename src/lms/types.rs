//! Typed bodies of the LMS API (docs/lms.md). Unknown fields are ignored, optional ones tolerated; ids are
//! opaque strings; every amount is an exact `Decimal` read through `domain::money`.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::money;

/// A list page. `GET /v1/loan-products` omits the paging fields, so all but `items` are optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub items: Vec<T>,
    pub total: Option<u64>,
    pub page: Option<u32>,
    pub rows_per_page: Option<u32>,
}

impl<T> Page<T> {
    /// Whether another page may hold more items (stop on an empty page or when `page * rows >= total`).
    pub fn has_more(&self, page: u32, rows: u32) -> bool {
        if self.items.is_empty() {
            return false;
        }
        match self.total {
            Some(total) => u64::from(page) * u64::from(self.rows_per_page.unwrap_or(rows)) < total,
            None => self.items.len() as u32 >= rows,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: String,
    pub external_id: String,
    pub status: String,
    pub active: bool,
    pub account_no: Option<String>,
    pub office_id: Option<String>,
    pub display_name: Option<String>,
    pub activation_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoanProduct {
    pub id: String,
    pub name: String,
    pub short_name: Option<String>,
    pub description: Option<String>,
    pub currency_code: String,
    #[serde(default, with = "money::option")]
    pub principal: Option<Decimal>,
    /// Required to lend; a product without both bounds is listed but never offered.
    #[serde(default, with = "money::option")]
    pub min_principal: Option<Decimal>,
    #[serde(default, with = "money::option")]
    pub max_principal: Option<Decimal>,
    pub number_of_repayments: Option<u32>,
    pub repayment_every: Option<u32>,
    pub repayment_frequency_type: Option<String>,
    #[serde(default, with = "money::option")]
    pub interest_rate_per_period: Option<Decimal>,
    pub interest_rate_frequency_type: Option<String>,
    pub status: Option<String>,
}

/// A product from the LMS that can be lent: both bounds known and the product active.
#[derive(Debug, Clone)]
pub struct OfferedProduct {
    pub product: LoanProduct,
    pub min_principal: Decimal,
    pub max_principal: Decimal,
}

/// Why a configured product is not offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProductSkip {
    NotListed,
    OtherCurrency,
    Inactive,
    NoBounds,
    EmptyRange,
}

impl ProductSkip {
    pub fn label(self) -> &'static str {
        match self {
            ProductSkip::NotListed => "not_listed",
            ProductSkip::OtherCurrency => "other_currency",
            ProductSkip::Inactive => "inactive",
            ProductSkip::NoBounds => "no_bounds",
            ProductSkip::EmptyRange => "empty_range",
        }
    }
}

impl LoanProduct {
    /// The product as lendable in `currency`, or why it is not. An absent `status` counts as active
    /// (older pages do not always carry it).
    pub fn offer(&self, currency: &str) -> Result<OfferedProduct, ProductSkip> {
        if !self.currency_code.eq_ignore_ascii_case(currency) {
            return Err(ProductSkip::OtherCurrency);
        }
        if self.status.as_deref().is_some_and(|s| !s.trim().eq_ignore_ascii_case("active")) {
            return Err(ProductSkip::Inactive);
        }
        let (Some(min), Some(max)) = (self.min_principal, self.max_principal) else {
            return Err(ProductSkip::NoBounds);
        };
        if min > max || max <= Decimal::ZERO {
            return Err(ProductSkip::EmptyRange);
        }
        Ok(OfferedProduct { product: self.clone(), min_principal: min, max_principal: max })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scorecard {
    pub external_id: Option<String>,
    pub halopesa_grade: Option<String>,
    #[serde(default, with = "money::option")]
    pub final_credit_score: Option<Decimal>,
    #[serde(default, with = "money::option")]
    pub final_credit_limit: Option<Decimal>,
    #[serde(default, with = "money::option")]
    pub total_outstanding: Option<Decimal>,
    #[serde(default, with = "money::option")]
    pub total_paid: Option<Decimal>,
    #[serde(with = "money::number")]
    pub available_credit_limit: Decimal,
    pub execution_period: Option<String>,
}

impl Scorecard {
    /// `XX` marks a subscriber the scoring engine does not know: never lend.
    pub fn is_unscored(&self) -> bool {
        self.halopesa_grade.as_deref().is_none_or(|g| g.eq_ignore_ascii_case("XX"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Repayment {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub date: Option<NaiveDate>,
    #[serde(with = "money::number")]
    pub amount: Decimal,
    #[serde(default, with = "money::zero_default")]
    pub principal: Decimal,
    #[serde(default, with = "money::zero_default")]
    pub interest: Decimal,
    /// Only on overpayment; the surplus goes to reconciliation.
    #[serde(default, with = "money::option")]
    pub overpayment_portion: Option<Decimal>,
    pub reversed: Option<bool>,
    pub status: Option<String>,
    /// Not documented on the repayment object; used to match a posting when an LMS echoes it.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

impl Repayment {
    /// A customer repayment that still counts (not reversed, not another transaction type).
    pub fn counts(&self) -> bool {
        self.reversed != Some(true) && self.kind.as_deref().is_none_or(|k| k.trim().eq_ignore_ascii_case("repayment"))
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomer<'a> {
    pub external_id: &'a str,
}

/// `POST /v1/loans`. The current generation takes the customer's **externalId** as `customerId`, the
/// legacy one the numeric LMS customer id; ids go out as JSON integers when they are all digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLoan {
    pub customer_external_id: String,
    pub product_id: String,
    pub principal: Decimal,
    pub external_id: String,
}

impl NewLoan {
    /// The body; `lms_customer_id` is the legacy generation's numeric customer id.
    pub(super) fn body(&self, lms_customer_id: Option<&str>) -> serde_json::Value {
        let customer = match lms_customer_id {
            Some(id) => integer_if_digits(id),
            None => serde_json::Value::from(self.customer_external_id.clone()),
        };
        serde_json::json!({
            "customerId": customer,
            "productId": integer_if_digits(&self.product_id),
            "principal": money::to_number(&self.principal),
            "externalId": self.external_id,
        })
    }
}

fn integer_if_digits(id: &str) -> serde_json::Value {
    id.parse::<u64>().map(serde_json::Value::from).unwrap_or_else(|_| serde_json::Value::from(id.to_owned()))
}

/// `POST /v1/loans/external/{ref}/repayments`. The gateway always sends the value date and the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewRepayment {
    #[serde(with = "money::number")]
    pub transaction_amount: Decimal,
    pub transaction_date: NaiveDate,
    pub idempotency_key: String,
}

/// The filter of `GET /v1/loans`.
#[derive(Debug, Clone, Default)]
pub struct LoanQuery {
    pub customer_external_id: Option<String>,
    pub status: Option<String>,
    pub page: Option<u32>,
    pub rows: Option<u32>,
    /// `orderBy=id&sortOrder=DESC`: the newest loans on the first page.
    pub newest_first: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn numeric_product_ids_go_out_as_integers_and_others_as_strings() {
        let mut loan = NewLoan {
            customer_external_id: "255712345678".into(),
            product_id: "1".into(),
            principal: Decimal::from_str("10000.50").unwrap(),
            external_id: "L0000000018".into(),
        };
        assert_eq!(
            serde_json::to_string(&loan.body(None)).unwrap(),
            r#"{"customerId":"255712345678","externalId":"L0000000018","principal":10000.50,"productId":1}"#
        );
        assert!(serde_json::to_string(&loan.body(Some("42"))).unwrap().contains(r#""customerId":42,"#));
        loan.product_id = "p-7".into();
        assert!(serde_json::to_string(&loan.body(None)).unwrap().contains(r#""productId":"p-7""#));
    }

    #[test]
    fn a_page_knows_when_it_is_the_last() {
        let page =
            |n: usize, total: Option<u64>| Page { items: vec![0; n], total, page: None, rows_per_page: Some(10) };
        assert!(page(10, Some(25)).has_more(2, 10));
        assert!(!page(5, Some(25)).has_more(3, 10));
        assert!(!page(0, Some(25)).has_more(1, 10));
        assert!(page(10, None).has_more(1, 10));
        assert!(!page(3, None).has_more(1, 10));
    }

    #[test]
    fn repayments_default_omitted_components_to_zero() {
        let r: Repayment =
            serde_json::from_str(r#"{"id":"7821","amount":11100,"principal":10000,"extra":true}"#).unwrap();
        assert_eq!(r.interest, Decimal::ZERO);
        assert_eq!(r.principal, Decimal::from(10000));
        assert_eq!(r.overpayment_portion, None);
    }
}
