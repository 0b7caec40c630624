//! Posting repayments so that none is ever posted twice, even on an LMS that ignores `idempotencyKey`
//! (the legacy generation documents none). A post is sent once per attempt, never resent by the
//! transport; after an ambiguous outcome (timeout, reset, 5xx after the request went out) the caller
//! looks for the posting on the loan before any resend ([`LmsClient::repayments_of`] and the pure
//! [`find_posting`]) and resends only when it is not there.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::error::LmsError;
use super::loan::{LoanKey, LoanRoute};
use super::retry::Idempotency;
use super::transport::Call;
use super::types::{NewRepayment, Repayment};
use super::{Generation, LmsClient};

/// Pages of the repayment list read when looking for a posting (newest first, so a recent posting is on
/// the first page; the cap bounds the work on a loan with a long history).
const LIST_PAGES: u32 = 4;

/// The posting a caller is looking for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting<'a> {
    pub idempotency_key: &'a str,
    pub amount: Decimal,
    /// The `transactionDate` we sent (honoured by the current generation).
    pub value_date: NaiveDate,
    /// The business date of the first attempt (the legacy generation dates a posting itself).
    pub first_attempt: NaiveDate,
}

/// What the loan's transactions say about a posting.
#[derive(Debug, Clone, PartialEq)]
pub enum PostingMatch {
    /// A transaction echoes our idempotency key: it is ours.
    ByKey(Repayment),
    /// Transactions of the same amount dated on the value date or since the first attempt, oldest
    /// first; the caller claims one no other posting has claimed.
    ByAmountDate(Vec<Repayment>),
    NotThere,
}

/// Looks for `posting` among a loan's transactions. Reversed transactions and other transaction types
/// never match; a transaction echoing another key is not ours; an undated one of the same amount may be.
pub fn find_posting(posting: &Posting<'_>, transactions: &[Repayment]) -> PostingMatch {
    let live = transactions.iter().filter(|t| t.counts());
    if let Some(ours) = live.clone().find(|t| t.idempotency_key.as_deref() == Some(posting.idempotency_key)) {
        return PostingMatch::ByKey(ours.clone());
    }
    let mut candidates: Vec<Repayment> = live
        .filter(|t| t.idempotency_key.is_none() && t.amount == posting.amount)
        .filter(|t| t.date.is_none_or(|d| d == posting.value_date || d >= posting.first_attempt))
        .cloned()
        .collect();
    if candidates.is_empty() {
        return PostingMatch::NotThere;
    }
    // Oldest first: the earliest unclaimed transaction is the likeliest to be our first attempt.
    candidates.sort_by(|a, b| (a.date, numeric(&a.id)).cmp(&(b.date, numeric(&b.id))));
    PostingMatch::ByAmountDate(candidates)
}

/// Ids are opaque strings, but today's are decimal counters: order by number where they are.
fn numeric(id: &str) -> (u64, &str) {
    (id.parse().unwrap_or(u64::MAX), id)
}

impl LmsClient {
    /// `POST {loan}/repayments`, one attempt: a timeout or 5xx is returned, not resent, because an LMS
    /// that ignores the key would post it twice. The body always carries the key and the value date.
    pub async fn post_repayment(&self, loan: &LoanKey, repayment: &NewRepayment) -> Result<Repayment, LmsError> {
        let mut call = Call::post(
            loan.endpoint(LoanRoute::Repay),
            format!("{}{}", loan.path(), LoanRoute::Repay.suffix()),
            serde_json::to_value(repayment).expect("a repayment body serialises"),
        );
        call.idempotency = Idempotency::Unsafe;
        self.json(&call).await
    }

    /// The customer repayments on a loan, newest first; `None` when the LMS has no such loan. The
    /// current generation lists them (`GET .../repayments`, externalId form only); the legacy one, a
    /// loan without externalId, or an LMS without the list route, gives the loan's `repaymentHistory`.
    pub async fn repayments_of(&self, loan: &LoanKey) -> Result<Option<Vec<Repayment>>, LmsError> {
        if let (Generation::Current, LoanKey::External(external_id)) = (self.inner.generation, loan) {
            match self.recent_repayments(external_id).await {
                Ok(found) => return Ok(Some(found)),
                // No such loan, or no such route: the read below tells which.
                Err(LmsError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.read_loan(loan).await?.map(|l| l.repayment_history))
    }

    async fn recent_repayments(&self, external_id: &str) -> Result<Vec<Repayment>, LmsError> {
        let rows = self.inner.page_rows;
        let mut found = Vec::new();
        for page in 1..=LIST_PAGES {
            let batch = self.list_repayments(external_id, page, rows).await?;
            let more = batch.has_more(page, rows);
            found.extend(batch.items);
            if !more {
                break;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tx(json: &str) -> Repayment {
        serde_json::from_str(json).unwrap()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn posting(amount: &str) -> Posting<'static> {
        Posting {
            idempotency_key: "HP7Q4K2M9X",
            amount: amount.parse().unwrap(),
            value_date: day("2026-06-01"),
            first_attempt: day("2026-06-02"),
        }
    }

    #[test]
    fn an_echoed_key_wins_and_other_keys_are_not_ours() {
        let txs = [
            tx(r#"{"id":"9","type":"Repayment","date":"2026-06-02","amount":500,"idempotencyKey":"OTHER"}"#),
            tx(r#"{"id":"8","type":"Repayment","date":"2026-06-02","amount":500,"idempotencyKey":"HP7Q4K2M9X"}"#),
        ];
        assert!(matches!(find_posting(&posting("500"), &txs), PostingMatch::ByKey(t) if t.id == "8"));
        assert_eq!(find_posting(&posting("500"), &txs[..1]), PostingMatch::NotThere);
    }

    #[test]
    fn amount_and_date_match_oldest_first() {
        let txs = [
            tx(r#"{"id":"12","type":"Repayment","date":"2026-06-03","amount":500.00}"#),
            tx(r#"{"id":"11","type":"Repayment","date":"2026-06-01","amount":500}"#),
            tx(r#"{"id":"10","type":"Repayment","date":"2026-05-30","amount":500}"#),
            tx(r#"{"id":"9","type":"Repayment","date":"2026-06-02","amount":499.99}"#),
        ];
        let PostingMatch::ByAmountDate(found) = find_posting(&posting("500"), &txs) else { panic!() };
        let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["11", "12"], "the value date or on/after the first attempt; not before, not 499.99");
    }

    #[test]
    fn reversed_and_other_transaction_types_never_match() {
        let txs = [
            tx(r#"{"id":"3","type":"Repayment","date":"2026-06-02","amount":500,"reversed":true}"#),
            tx(r#"{"id":"4","type":"Waive interest","date":"2026-06-02","amount":500}"#),
        ];
        assert_eq!(find_posting(&posting("500"), &txs), PostingMatch::NotThere);
        assert_eq!(find_posting(&posting("500"), &[]), PostingMatch::NotThere);
    }

    #[test]
    fn an_undated_transaction_of_the_same_amount_may_be_ours() {
        let txs = [tx(r#"{"id":"5","amount":500}"#)];
        assert!(matches!(find_posting(&posting("500"), &txs), PostingMatch::ByAmountDate(v) if v.len() == 1));
    }
}
