//! Counters of the lending side's checks against the real LMS: products that cannot be offered, quotes
//! the LMS did not honour, and repayments found already posted after an ambiguous answer (so not sent
//! again). Labels are product ids from config and fixed words.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProductLabels {
    pub product: String,
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MismatchLabels {
    pub product: String,
    /// `total` or `due`.
    pub field: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RecoveredLabels {
    /// `key` (the LMS echoed our idempotency key) or `amount_date` (matched by amount and value date).
    pub how: &'static str,
}

#[derive(Clone, Default)]
pub(super) struct Lending {
    products_skipped: Family<ProductLabels, Counter>,
    quote_mismatches: Family<MismatchLabels, Counter>,
    repayments_recovered: Family<RecoveredLabels, Counter>,
}

impl Lending {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let this = Self::default();
        registry.register(
            "lms_products_skipped",
            "Configured loan products not offered when the product list was read, by product and reason \
             (not_listed, other_currency, inactive, no_bounds, empty_range)",
            this.products_skipped.clone(),
        );
        registry.register(
            "loan_quote_mismatch",
            "Loans whose LMS figures differ from the quote the subscriber confirmed, by product and field",
            this.quote_mismatches.clone(),
        );
        registry.register(
            "lms_repayments_recovered",
            "Repayments found already posted after an ambiguous LMS answer, so not sent again, by match",
            this.repayments_recovered.clone(),
        );
        this
    }

    pub(super) fn prime(&self, products: &[String]) {
        for product in products {
            for field in ["total", "due"] {
                self.quote_mismatches.get_or_create(&MismatchLabels { product: product.clone(), field }).inc_by(0);
            }
        }
    }
}

impl super::Metrics {
    pub fn product_skipped(&self, product: &str, reason: &'static str) {
        self.0.lending.products_skipped.get_or_create(&ProductLabels { product: product.to_owned(), reason }).inc();
    }

    pub fn quote_mismatch(&self, product: &str, field: &'static str) {
        self.0.lending.quote_mismatches.get_or_create(&MismatchLabels { product: product.to_owned(), field }).inc();
    }

    pub fn repayment_recovered(&self, how: &'static str) {
        self.0.lending.repayments_recovered.get_or_create(&RecoveredLabels { how }).inc();
    }

    /// Zero series for the quote-mismatch alert, one per offered product.
    pub fn prime_products(&self, products: &[String]) {
        self.0.lending.prime(products);
    }
}
