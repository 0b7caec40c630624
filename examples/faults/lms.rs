//! The sandbox LMS over its HTTP API: a partner token, seeding customers and loans, reading what it
//! holds per loan (the repayment history and `totalRepayment`), and its fault hooks.

use std::str::FromStr;
use std::time::Duration;

use futures::StreamExt;
use mkopo::momo::{Reference, ReferenceKind};
use rust_decimal::Decimal;
use serde_json::{json, Value};

/// A seeded subscriber with one active loan.
#[derive(Clone, Debug)]
pub struct Loan {
    pub msisdn: String,
    pub reference: String,
}

/// What the LMS holds for one loan: each live repayment's amount, and its own total.
#[derive(Debug, Default)]
pub struct Held {
    pub amounts: Vec<Decimal>,
    pub total_repayment: Decimal,
}

#[derive(Clone)]
pub struct Lms {
    pub base: String,
    http: reqwest::Client,
    token: String,
}

/// A JSON number (or numeric string) as an exact decimal: serde_json keeps the number's text
/// (`arbitrary_precision`), so no binary float is ever involved.
fn decimal(value: &Value) -> anyhow::Result<Decimal> {
    let text = match value {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => anyhow::bail!("not an amount: {other}"),
    };
    Ok(Decimal::from_str(&text)?)
}

impl Lms {
    pub async fn connect(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        let partner = mkopo::config::Settings::local_defaults().sandbox.lms;
        let response = http
            .get(format!("{base}/v1/auth/token"))
            .basic_auth(&partner.partner_email, Some(&partner.partner_password))
            .send()
            .await?;
        anyhow::ensure!(response.status() == 200, "LMS token: {}", response.status());
        let body: Value = response.json().await?;
        let token = body["token"].as_str().ok_or_else(|| anyhow::anyhow!("no token in {body}"))?.to_owned();
        Ok(Self { base: base.to_owned(), http, token })
    }

    /// Registers `count` subscribers of scenario `tag` (0..=89), each with a 7-day loan of 10,000 under
    /// an `L` reference of a range the gateway's own counter never reaches.
    pub async fn seed(&self, tag: u32, count: usize) -> anyhow::Result<Vec<Loan>> {
        let loans: Vec<Loan> = (0..count)
            .map(|k| {
                let n = 900_000_000 + u64::from(tag) * 100_000 + k as u64;
                Loan {
                    msisdn: format!("2557{:02}{:06}", 10 + tag, k),
                    reference: Reference::mint(ReferenceKind::Loan, n).expect("nine digits").to_string(),
                }
            })
            .collect();
        let failures: Vec<String> = futures::stream::iter(loans.iter())
            .map(|loan| async move {
                let customer = json!({ "externalId": loan.msisdn });
                let created = self.post("/v1/customers", &customer).await;
                let body = json!({ "customerId": loan.msisdn, "productId": 1, "principal": 10000, "externalId": loan.reference });
                match created {
                    Ok(()) => self.post("/v1/loans", &body).await.err(),
                    Err(e) => Some(e),
                }
            })
            .buffer_unordered(8)
            .filter_map(|f| async move { f.map(|e| e.to_string()) })
            .collect()
            .await;
        anyhow::ensure!(failures.is_empty(), "seeding the LMS: {} failures, e.g. {}", failures.len(), failures[0]);
        Ok(loans)
    }

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<()> {
        let response =
            self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.token).json(body).send().await?;
        let status = response.status();
        anyhow::ensure!(status.is_success(), "POST {path}: {status} {}", response.text().await.unwrap_or_default());
        Ok(())
    }

    /// Posts a repayment straight to the LMS, as a branch or the back office would.
    pub async fn repay(&self, reference: &str, amount: Decimal) -> anyhow::Result<()> {
        let body = json!({ "transactionAmount": amount.to_string() });
        self.post(&format!("/v1/loans/external/{reference}/repayments"), &body).await
    }

    /// The loan's live (not reversed) repayments and `totalRepayment`.
    pub async fn held(&self, reference: &str) -> anyhow::Result<Held> {
        let url = format!("{}/v1/loans/external/{reference}", self.base);
        let response = self.http.get(url).bearer_auth(&self.token).send().await?;
        anyhow::ensure!(response.status() == 200, "GET loan {reference}: {}", response.status());
        let loan: Value = response.json().await?;
        let mut held = Held { total_repayment: decimal(&loan["totalRepayment"])?, ..Held::default() };
        for repayment in loan["repaymentHistory"].as_array().into_iter().flatten() {
            if repayment["reversed"] != Value::Bool(true) {
                held.amounts.push(decimal(&repayment["amount"])?);
            }
        }
        Ok(held)
    }

    /// What every loan holds, in the order given.
    pub async fn held_all(&self, loans: &[Loan]) -> anyhow::Result<Vec<Held>> {
        futures::stream::iter(loans)
            .map(|l| self.held(&l.reference))
            .buffered(8)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect()
    }

    /// Queues a fault (`POST /sandbox/faults`): the next `count` calls matching `method` and `path` fail.
    pub async fn fault(&self, method: &str, path: &str, kind: &str, count: u32) -> anyhow::Result<()> {
        let body = json!({ "method": method, "path": path, "kind": kind, "count": count });
        let response = self.http.post(format!("{}/sandbox/faults", self.base)).json(&body).send().await?;
        anyhow::ensure!(response.status().is_success(), "POST /sandbox/faults: {}", response.status());
        Ok(())
    }

    /// Clears every queued fault.
    pub async fn clear_faults(&self) -> anyhow::Result<()> {
        let response = self.http.delete(format!("{}/sandbox/faults", self.base)).send().await?;
        anyhow::ensure!(response.status().is_success(), "DELETE /sandbox/faults: {}", response.status());
        Ok(())
    }
}
