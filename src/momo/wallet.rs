//! The outbound side of a wallet provider, as the saga and collections see it: submit a payout or a
//! collection under our reference, and ask for its status. Each provider adapter implements this.

use async_trait::async_trait;

use super::model::{OutboundRequest, Outcome};

/// How a wallet answered a submit (docs/money.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitResult {
    /// Recorded: follow the outcome (usually `Pending`; a replay may already be final).
    Accepted(Outcome),
    /// Definitely not recorded, and the reference must not be reused: a definite failure.
    Rejected { code: String, message: String },
    /// Not recorded, try the same reference again later (credentials, rate limit, unavailable).
    RetryLater { why: String },
    /// May or may not have been recorded: resolve by status query, never by a new reference.
    Unknown { why: String },
}

/// How a wallet answered a status query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusAnswer {
    Found(Outcome),
    /// Never recorded: re-submit the same reference.
    NotFound,
    /// Anything else: ask again at the next poll.
    Unclear(String),
}

#[async_trait]
pub trait WalletApi: Send + Sync {
    /// The provider namespace (`sandbox`, `halopesa`, `daraja`).
    fn name(&self) -> &str;
    /// Whether a repeated submit under the same reference is a harmless replay (the generic contract's
    /// guarantee 1). Daraja B2C does not enforce it, so an uncertain submission is never repeated.
    fn dedupes_by_reference(&self) -> bool {
        true
    }
    async fn submit(&self, request: &OutboundRequest) -> SubmitResult;
    async fn status(&self, request: &OutboundRequest) -> StatusAnswer;
}
