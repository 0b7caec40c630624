//! The calls of "how the gateway uses the API" table of docs/lms.md, one method each. Lookups turn
//! `not_found` into `None`; creates resolve a duplicate (`aborted`) by reading the existing record.

use super::error::LmsError;
use super::loan::{Loan, LoanKey, LoanRoute, LoanStatus};
use super::transport::{segment, Call};
use super::types::{CreateCustomer, Customer, LoanQuery, NewLoan, Page, Repayment, Scorecard};
use super::{Generation, LmsClient};

pub(super) fn none_if_not_found<T>(result: Result<T, LmsError>) -> Result<Option<T>, LmsError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(LmsError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Pages of a customer's loans `recently_settled` reads at most.
pub const SETTLED_PAGES: u32 = 3;

impl LmsClient {
    /// `GET /v1/customers/external/{id}`.
    pub async fn get_customer(&self, external_id: &str) -> Result<Option<Customer>, LmsError> {
        let call =
            Call::get("GET /v1/customers/external/{id}", format!("/v1/customers/external/{}", segment(external_id)));
        none_if_not_found(self.json(&call).await)
    }

    /// `GET /v1/customers?externalId=`: the list form of the same lookup (empty page = not registered).
    pub async fn find_customer(&self, external_id: &str) -> Result<Option<Customer>, LmsError> {
        let call = Call::get("GET /v1/customers", "/v1/customers".into()).query("externalId", external_id);
        let page: Page<Customer> = self.json(&call).await?;
        Ok(page.items.into_iter().find(|c| c.external_id == external_id))
    }

    /// `POST /v1/customers`. A duplicate means the customer exists: the existing record is returned.
    pub async fn create_customer(&self, external_id: &str) -> Result<Customer, LmsError> {
        let body = serde_json::to_value(CreateCustomer { external_id }).expect("a customer body serialises");
        match self.json(&Call::post("POST /v1/customers", "/v1/customers".into(), body)).await {
            Err(LmsError::Aborted { message }) => match self.get_customer(external_id).await? {
                Some(existing) => Ok(existing),
                None => Err(LmsError::Aborted { message }),
            },
            other => other,
        }
    }

    /// The registration step: the customer, and whether this call created it.
    pub async fn ensure_customer(&self, external_id: &str) -> Result<(Customer, bool), LmsError> {
        match self.get_customer(external_id).await? {
            Some(customer) => Ok((customer, false)),
            None => self.create_customer(external_id).await.map(|c| (c, true)),
        }
    }

    /// `GET /v1/credit-scorecard/{externalId}`. Unknown subscribers are not an error: they read `XX`.
    pub async fn scorecard(&self, external_id: &str) -> Result<Scorecard, LmsError> {
        let call = Call::get("GET /v1/credit-scorecard/{id}", format!("/v1/credit-scorecard/{}", segment(external_id)));
        self.json(&call).await
    }

    /// `POST /v1/loans`: one call submits, approves and disburses. A duplicate `externalId` is resolved by
    /// reading the existing loan and checking it is the one we asked for. The legacy generation names
    /// the customer by numeric LMS id, read first (a customer the LMS does not know is `not_found`).
    pub async fn create_loan(&self, loan: &NewLoan) -> Result<Loan, LmsError> {
        let lms_customer = match self.inner.generation {
            Generation::Current => None,
            Generation::Legacy => match self.get_customer(&loan.customer_external_id).await? {
                Some(customer) => Some(customer.id),
                None => return Err(LmsError::NotFound { message: "no LMS customer for this subscriber".into() }),
            },
        };
        let body = loan.body(lms_customer.as_deref());
        match self.json(&Call::post("POST /v1/loans", "/v1/loans".into(), body)).await {
            Err(LmsError::Aborted { message }) => match self.get_loan(&loan.external_id).await? {
                Some(existing) => self.same_loan(loan, existing).await,
                None => Err(LmsError::Aborted { message }),
            },
            other => other,
        }
    }

    async fn same_loan(&self, asked: &NewLoan, existing: Loan) -> Result<Loan, LmsError> {
        let mut differences = Vec::new();
        if existing.principal != asked.principal {
            differences.push(format!("principal {} instead of {}", existing.principal, asked.principal));
        }
        if existing.loan_product_id.as_deref().is_some_and(|p| p != asked.product_id) {
            differences.push("another loan product".to_owned());
        }
        let customer = self.get_customer(&asked.customer_external_id).await?;
        if customer.is_none_or(|c| c.id != existing.customer_id) {
            differences.push("another customer".to_owned());
        }
        if differences.is_empty() {
            Ok(existing)
        } else {
            Err(LmsError::Conflict { what: format!("loan {}", asked.external_id), detail: differences.join(", ") })
        }
    }

    /// `GET /v1/loans` with filters and paging. An unknown customer reads as no loans.
    pub async fn list_loans(&self, query: &LoanQuery) -> Result<Page<Loan>, LmsError> {
        let mut call = Call::get("GET /v1/loans", "/v1/loans".into());
        if let Some(customer) = &query.customer_external_id {
            call = call.query("customerExternalId", customer);
        }
        if let Some(status) = &query.status {
            call = call.query("status", status);
        }
        if query.newest_first {
            call = call.query("orderBy", "id").query("sortOrder", "DESC");
        }
        call = call.query("page", query.page.unwrap_or(1)).query("rows", query.rows.unwrap_or(self.inner.page_rows));
        match self.json(&call).await {
            Err(LmsError::NotFound { .. }) if query.customer_external_id.is_some() => {
                Ok(Page { items: Vec::new(), total: Some(0), page: query.page, rows_per_page: query.rows })
            }
            other => other,
        }
    }

    /// Every `Active` loan of a customer, across pages.
    pub async fn active_loans(&self, customer_external_id: &str) -> Result<Vec<Loan>, LmsError> {
        let rows = self.inner.page_rows;
        let mut loans = Vec::new();
        for page in 1.. {
            let query = LoanQuery {
                customer_external_id: Some(customer_external_id.to_owned()),
                status: Some(LoanStatus::Active.as_str().to_owned()),
                page: Some(page),
                rows: Some(rows),
                newest_first: false,
            };
            let batch = self.list_loans(&query).await?;
            let more = batch.has_more(page, rows);
            loans.extend(batch.items);
            if !more {
                break;
            }
        }
        Ok(loans)
    }

    /// A customer's loans repaid in full (`Closed (obligations met)`, `Overpaid`) on or after `since`,
    /// newest first, at most `limit`. One unfiltered list call newest first, filtered here, rather than
    /// one call per status (the filter takes one exact status); a further page only while the page read
    /// was full of settled-in-window loans and `limit` is not reached, at most [`SETTLED_PAGES`].
    pub async fn recently_settled(
        &self,
        customer_external_id: &str,
        since: chrono::NaiveDate,
        limit: usize,
    ) -> Result<Vec<Loan>, LmsError> {
        let rows = self.inner.page_rows;
        let mut found = Vec::new();
        for page in 1..=SETTLED_PAGES {
            let query = LoanQuery {
                customer_external_id: Some(customer_external_id.to_owned()),
                status: None,
                page: Some(page),
                rows: Some(rows),
                newest_first: true,
            };
            let batch = self.list_loans(&query).await?;
            let more = batch.has_more(page, rows);
            // Newest first: once a loan repaid before `since` shows, older pages hold nothing newer.
            let mut older = false;
            for loan in batch.items {
                if !matches!(loan.status, LoanStatus::ClosedObligationsMet | LoanStatus::Overpaid) {
                    continue;
                }
                match loan.settled_on() {
                    Some(day) if day < since => older = true,
                    // An unknown day is shown rather than hidden: the payments are the subscriber's.
                    _ => found.push(loan),
                }
            }
            if !more || older || found.len() >= limit {
                break;
            }
        }
        found.truncate(limit);
        Ok(found)
    }

    /// `GET /v1/loans/external/{ref}`; a rolled-back loan reads as `None`.
    pub async fn get_loan(&self, external_id: &str) -> Result<Option<Loan>, LmsError> {
        self.read_loan(&LoanKey::External(external_id.to_owned())).await
    }

    /// `GET /v1/loans/external/{ref}` or `GET /v1/loans/{id}`; `None` when the LMS has no such loan.
    pub async fn read_loan(&self, key: &LoanKey) -> Result<Option<Loan>, LmsError> {
        let call = Call::get(key.endpoint(LoanRoute::Get), key.path());
        none_if_not_found(self.json(&call).await)
    }

    /// `POST /v1/loans/external/{ref}/adjust-disbursement-date`: the wallet credit landed on a later day
    /// than the loan's disbursal. Repeating it with the same date changes nothing.
    pub async fn adjust_disbursement_date(
        &self,
        external_id: &str,
        date: chrono::NaiveDate,
        note: &str,
    ) -> Result<Loan, LmsError> {
        let call = Call::post(
            "POST /v1/loans/external/{id}/adjust-disbursement-date",
            format!("/v1/loans/external/{}/adjust-disbursement-date", segment(external_id)),
            serde_json::json!({ "actualDisbursementDate": date.format("%Y-%m-%d").to_string(), "note": note }),
        );
        self.json(&call).await
    }

    /// `GET /v1/loans/external/{ref}/repayments/{transaction}`.
    pub async fn get_repayment(
        &self,
        loan_external_id: &str,
        transaction_id: &str,
    ) -> Result<Option<Repayment>, LmsError> {
        let call = Call::get(
            "GET /v1/loans/external/{id}/repayments/{tx}",
            format!("/v1/loans/external/{}/repayments/{}", segment(loan_external_id), segment(transaction_id)),
        );
        none_if_not_found(self.json(&call).await)
    }

    /// `GET /v1/loans/external/{ref}/repayments`: customer repayments, newest first.
    pub async fn list_repayments(
        &self,
        loan_external_id: &str,
        page: u32,
        rows: u32,
    ) -> Result<Page<Repayment>, LmsError> {
        let call = Call::get(
            "GET /v1/loans/external/{id}/repayments",
            format!("/v1/loans/external/{}/repayments", segment(loan_external_id)),
        )
        .query("page", page)
        .query("rows", rows);
        self.json(&call).await
    }
}
