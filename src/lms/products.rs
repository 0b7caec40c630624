//! The loan-product list, read once per `lms.products_cache_ttl`, and which configured products can be
//! lent. Products come only from older documentation pages: bounds may be missing or null and a product
//! has a `status`, so each configured product is judged on its own; one odd product never makes the
//! others unborrowable. A product that cannot be offered is logged once per process and counted on
//! every read of the list (`mkopo_lms_products_skipped_total`).

use std::sync::Arc;

use super::error::LmsError;
use super::transport::Call;
use super::types::{LoanProduct, OfferedProduct, Page, ProductSkip};
use super::LmsClient;

/// One read of `GET /v1/loan-products`: everything listed, and what of it is offered, in config order.
pub(super) struct Catalog {
    all: Arc<Vec<LoanProduct>>,
    offered: Arc<Vec<OfferedProduct>>,
}

impl LmsClient {
    /// `GET /v1/loan-products`, cached. Two callers that miss at once may both fetch; that is cheaper
    /// than making a USSD hop wait on another caller's failure.
    pub async fn loan_products(&self) -> Result<Arc<Vec<LoanProduct>>, LmsError> {
        Ok(Arc::clone(&self.catalog().await?.all))
    }

    /// The configured products (`lms.product_ids`, in that order) that exist, lend in our currency, are
    /// active and have both bounds.
    pub async fn offered_products(&self) -> Result<Arc<Vec<OfferedProduct>>, LmsError> {
        Ok(Arc::clone(&self.catalog().await?.offered))
    }

    async fn catalog(&self) -> Result<Arc<Catalog>, LmsError> {
        if let Some(catalog) = self.inner.products.get(&()).await {
            return Ok(catalog);
        }
        let page: Page<LoanProduct> =
            self.json(&Call::get("GET /v1/loan-products", "/v1/loan-products".into())).await?;
        let offered = self.inner.product_ids.iter().filter_map(|id| self.judge(id, &page.items)).collect();
        let catalog = Arc::new(Catalog { all: Arc::new(page.items), offered: Arc::new(offered) });
        self.inner.products.insert((), Arc::clone(&catalog)).await;
        Ok(catalog)
    }

    fn judge(&self, id: &str, listed: &[LoanProduct]) -> Option<OfferedProduct> {
        let verdict = match listed.iter().find(|p| p.id == id) {
            Some(product) => product.offer(&self.inner.currency),
            None => Err(ProductSkip::NotListed),
        };
        let skip = match verdict {
            Ok(offered) => return Some(offered),
            Err(skip) => skip,
        };
        self.inner.metrics.product_skipped(id, skip.label());
        let first = self.inner.reported_skips.lock().map(|mut seen| seen.insert((id.to_owned(), skip))).unwrap_or(true);
        if first {
            tracing::warn!(product = id, reason = skip.label(), "configured loan product is not offered");
        }
        None
    }
}
