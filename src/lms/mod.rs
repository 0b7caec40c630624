//! The client of the partner loan-management API (the "LMS", docs/lms.md).
//!
//! One [`LmsClient`] owns one `reqwest::Client`, the token provider and the product cache; it is cheap to
//! clone. Every call goes through [`transport`], which adds the bearer token, replaces it once on a 401,
//! and retries by the pure [`retry`] policy. Interactive callers (a USSD hop is waiting) get a short
//! per-request timeout and an overall budget; [`LmsClient::for_workers`] gives the background profile.
//!
//! The partner documents two API generations ([`Generation`]); the client speaks either, chosen in
//! config: loan create by externalId or by numeric customer id, repayments read from the list route or
//! from the loan's `repaymentHistory`, rollback by route or by the undo chain ([`undo`]). Writes that
//! move money are confirmed by reads, never taken on an answer's word ([`repay`], [`undo`]).

mod api;
mod error;
mod loan;
mod products;
pub mod quote;
mod repay;
pub mod retry;
mod status;
mod token;
mod transport;
mod types;
mod undo;

#[cfg(test)]
mod docs_tests;

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use chrono_tz::Tz;
use secrecy::SecretString;

pub use error::{ErrorCode, FieldError, LmsError};
pub use loan::{Charges, Loan, LoanKey, LoanStatus, LoanSummary, ScheduleRow};
pub use quote::{Quote, QuoteCheck, QuoteRule};
pub use repay::{find_posting, Posting, PostingMatch};
pub use retry::{Decision, Idempotency, RetryPolicy};
pub use token::{Token, TokenProvider, TokenSettings};
pub use types::{
    Customer, LoanProduct, LoanQuery, NewLoan, NewRepayment, OfferedProduct, Page, ProductSkip, Repayment, Scorecard,
};
pub use undo::UndoOutcome;

/// Which documentation generation the lender's LMS follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Generation {
    /// Loan create by customer externalId, repayments deduplicated by `idempotencyKey` and listed by
    /// `GET .../repayments`, rollback by `POST .../rollback`.
    #[default]
    Current,
    /// Loan create by numeric customer id, repayments known only from the loan's `repaymentHistory`, no
    /// rollback route (undo-disbursal, undo-approval, delete), no documented `idempotencyKey`.
    Legacy,
}

impl Generation {
    pub fn as_str(self) -> &'static str {
        match self {
            Generation::Current => "current",
            Generation::Legacy => "legacy",
        }
    }
}

use crate::config::LmsSettings;
use crate::domain::clock::Clock;

/// Everything the client needs, resolved from settings (base URLs are final here, sandbox or not).
#[derive(Clone)]
pub struct LmsClientConfig {
    pub auth_base_url: String,
    pub api_base_url: String,
    pub partner_email: String,
    pub partner_password: SecretString,
    pub token_refresh_margin: Duration,
    pub token_max_age_fallback: Duration,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub worker_request_timeout: Duration,
    pub retry: RetryPolicy,
    pub business_timezone: Tz,
    pub page_rows: u32,
    pub product_ids: Vec<String>,
    pub products_cache_ttl: Duration,
    pub currency: String,
    pub generation: Generation,
    /// Quote rules by product id; a product without one is quoted by its own terms.
    pub quotes: std::collections::BTreeMap<String, QuoteRule>,
    /// Where attempts and token refreshes are counted; a detached registry unless the app gives its own.
    pub metrics: crate::metrics::Metrics,
}

impl LmsClientConfig {
    /// Builds the client config from validated settings and the two base URLs to use.
    pub fn from_settings(s: &LmsSettings, auth_base_url: String, api_base_url: String) -> Self {
        Self {
            auth_base_url,
            api_base_url,
            partner_email: s.partner_email.clone(),
            partner_password: s.partner_password.clone(),
            token_refresh_margin: s.token_refresh_margin,
            token_max_age_fallback: s.token_max_age_fallback,
            connect_timeout: s.connect_timeout,
            request_timeout: s.request_timeout,
            worker_request_timeout: s.worker_request_timeout,
            retry: RetryPolicy { max_attempts: s.retry.max_attempts, base: s.retry.base, cap: s.retry.cap },
            business_timezone: s.business_timezone.parse().unwrap_or(chrono_tz::Africa::Dar_es_Salaam),
            page_rows: s.page_rows,
            product_ids: s.product_ids.clone(),
            products_cache_ttl: s.products_cache_ttl,
            currency: s.currency.clone(),
            generation: s.generation,
            quotes: s.quotes.clone(),
            metrics: crate::metrics::Metrics::default(),
        }
    }
}

struct Inner {
    http: reqwest::Client,
    api_base_url: String,
    tokens: Arc<TokenProvider>,
    policy: RetryPolicy,
    products: moka::future::Cache<(), Arc<products::Catalog>>,
    business_timezone: Tz,
    page_rows: u32,
    product_ids: Vec<String>,
    currency: String,
    generation: Generation,
    quotes: std::collections::BTreeMap<String, QuoteRule>,
    /// Products already reported as not offerable, so each reason is logged once per process.
    reported_skips: std::sync::Mutex<std::collections::HashSet<(String, ProductSkip)>>,
    worker_timeout: Duration,
    clock: Clock,
    metrics: crate::metrics::Metrics,
    /// Every attempt's outcome, for `/readyz` (see [`crate::health::LmsHealth`]).
    health: crate::health::LmsHealth,
}

#[derive(Clone)]
pub struct LmsClient {
    inner: Arc<Inner>,
    /// Per-request timeout of this profile.
    timeout: Duration,
    /// Overall time a call may take across retries; `None` for workers, which may wait.
    budget: Option<Duration>,
}

impl LmsClient {
    pub fn new(config: LmsClientConfig, clock: Clock) -> Result<Self, LmsError> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("mkopo/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| transport_error("client setup".into(), config.request_timeout, source))?;
        let tokens = TokenProvider::new(
            http.clone(),
            TokenSettings {
                token_url: format!("{}/v1/auth/token", config.auth_base_url.trim_end_matches('/')),
                email: config.partner_email.clone(),
                password: config.partner_password.clone(),
                margin: config.token_refresh_margin,
                fallback_age: config.token_max_age_fallback,
                timeout: config.request_timeout,
                metrics: config.metrics.clone(),
            },
            clock.clone(),
        );
        let products = moka::future::Cache::builder().max_capacity(1).time_to_live(config.products_cache_ttl).build();
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                api_base_url: config.api_base_url.trim_end_matches('/').to_owned(),
                tokens,
                policy: config.retry,
                products,
                business_timezone: config.business_timezone,
                page_rows: config.page_rows,
                product_ids: config.product_ids,
                currency: config.currency,
                generation: config.generation,
                quotes: config.quotes,
                reported_skips: Default::default(),
                worker_timeout: config.worker_request_timeout,
                clock,
                metrics: config.metrics,
                health: crate::health::LmsHealth::default(),
            }),
            timeout: config.request_timeout,
            budget: Some(config.request_timeout),
        })
    }

    /// The background profile: the worker timeout per request and no overall budget, so `unavailable`
    /// is retried for as long as the policy allows.
    pub fn for_workers(&self) -> Self {
        Self { inner: Arc::clone(&self.inner), timeout: self.inner.worker_timeout, budget: None }
    }

    /// The currency the gateway lends in (`lms.currency`).
    pub fn currency(&self) -> &str {
        &self.inner.currency
    }

    pub fn generation(&self) -> Generation {
        self.inner.generation
    }

    /// The quote of a loan of `principal` on `product` taken today, by the product's configured rule.
    pub fn quote(&self, product: &LoanProduct, principal: rust_decimal::Decimal) -> Quote {
        let rule = self.inner.quotes.get(&product.id).cloned().unwrap_or_default();
        Quote::of(&rule, product, principal, self.business_today())
    }

    pub fn tokens(&self) -> &Arc<TokenProvider> {
        &self.inner.tokens
    }

    /// Today in the LMS business zone: the date to send as `transactionDate` for payments made now.
    pub fn business_today(&self) -> NaiveDate {
        self.inner.clock.now().with_timezone(&self.inner.business_timezone).date_naive()
    }

    /// The business date of an instant: a wallet's value time becomes the repayment's `transactionDate`.
    pub fn business_date(&self, at: chrono::DateTime<chrono::Utc>) -> NaiveDate {
        at.with_timezone(&self.inner.business_timezone).date_naive()
    }

    /// The outcomes of this client's recent attempts (shared by every profile of it).
    pub fn health(&self) -> &crate::health::LmsHealth {
        &self.inner.health
    }

    /// Obtains a token if none is held: the readiness probe's LMS check.
    pub async fn check_token(&self) -> Result<(), LmsError> {
        self.inner.tokens.get().await.map(|_| ())
    }
}

pub(crate) fn transport_error(endpoint: String, timeout: Duration, source: reqwest::Error) -> LmsError {
    if source.is_timeout() {
        LmsError::Timeout { endpoint, timeout }
    } else {
        LmsError::Transport { endpoint, source }
    }
}
