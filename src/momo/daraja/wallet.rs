//! Daraja as the gateway's wallet: B2C for payouts, STK push for collections, behind the same
//! [`WalletApi`] the saga and collections use for every provider.
//!
//! Daraja's status answers are asynchronous (a transaction-status query is answered on
//! `/status/result`), so a payout poll only asks and reports `Unclear`; the answer settles the saga
//! through the inbox. An STK prompt is identified by Daraja's `CheckoutRequestID`, which is stored
//! against our `C…` reference (`stk:{id}` and `stkref:{C}`) so the callback finds its collection.

use async_trait::async_trait;

use super::client::{CollectionSubmit, DarajaClient, PayoutSubmit, StatusSubmit, StkQuery};
use crate::momo::store::{load_json, put_json, SharedMoneyStore};
use crate::momo::wallet::{StatusAnswer, SubmitResult, WalletApi};
use crate::momo::{Direction, OutboundRequest, Outcome, Reference};

pub struct DarajaWallet {
    client: DarajaClient,
    store: SharedMoneyStore,
}

impl DarajaWallet {
    pub fn new(client: DarajaClient, store: SharedMoneyStore) -> Self {
        Self { client, store }
    }
}

fn checkout_key(checkout_request_id: &str) -> String {
    format!("stk:{checkout_request_id}")
}

fn reference_key(reference: &Reference) -> String {
    format!("stkref:{reference}")
}

/// The collection an STK callback belongs to, by its `CheckoutRequestID`.
pub async fn collection_for_checkout(store: &SharedMoneyStore, checkout_request_id: &str) -> Option<Reference> {
    load_json::<String>(store.as_ref(), &checkout_key(checkout_request_id))
        .await
        .ok()
        .flatten()
        .and_then(|(_, r)| Reference::parse(&r))
}

#[async_trait]
impl WalletApi for DarajaWallet {
    fn name(&self) -> &str {
        "daraja"
    }

    fn dedupes_by_reference(&self) -> bool {
        false
    }

    async fn submit(&self, request: &OutboundRequest) -> SubmitResult {
        match request.direction {
            Direction::Payout => match self.client.b2c_payout(request).await {
                PayoutSubmit::Pending { .. } => SubmitResult::Accepted(Outcome::Pending),
                PayoutSubmit::Failed { code, message } => SubmitResult::Rejected { code, message },
                PayoutSubmit::RetryLater { code, message } => {
                    SubmitResult::RetryLater { why: format!("{code}: {message}") }
                }
                // Daraja does not enforce OriginatorConversationID uniqueness: never resend blindly.
                PayoutSubmit::Unknown { why } => SubmitResult::Unknown { why },
            },
            Direction::Collection => match self.client.stk_push(request).await {
                CollectionSubmit::Pending { checkout_request_id } => {
                    let reference = request.reference.as_str().to_owned();
                    let stored = async {
                        put_json(self.store.as_ref(), &checkout_key(&checkout_request_id), 0, &reference).await?;
                        put_json(self.store.as_ref(), &reference_key(&request.reference), 0, &checkout_request_id).await
                    };
                    if let Err(error) = stored.await {
                        // The payment still arrives and is allocated by phone number.
                        tracing::warn!(%error, reference, "could not remember the STK checkout id");
                    }
                    SubmitResult::Accepted(Outcome::Pending)
                }
                CollectionSubmit::Failed { code, message } => SubmitResult::Rejected { code, message },
                CollectionSubmit::Unknown { why } => SubmitResult::Unknown { why },
            },
        }
    }

    async fn status(&self, request: &OutboundRequest) -> StatusAnswer {
        match request.direction {
            Direction::Payout => match self.client.transaction_status(&request.reference).await {
                StatusSubmit::Accepted { .. } => {
                    StatusAnswer::Unclear("status asked; Daraja answers on /status/result".into())
                }
                StatusSubmit::NotAccepted { why } => StatusAnswer::Unclear(why),
            },
            Direction::Collection => {
                let checkout = load_json::<String>(self.store.as_ref(), &reference_key(&request.reference)).await;
                let Ok(Some((_, checkout))) = checkout else {
                    return StatusAnswer::Unclear("no CheckoutRequestID to query; waiting for the callback".into());
                };
                match self.client.stk_query(&checkout).await {
                    // Paid, but without a receipt: no repayment comes from this, only from the callback.
                    StkQuery::Succeeded => {
                        StatusAnswer::Found(Outcome::Succeeded { receipt: None, amount: None, occurred_at: None })
                    }
                    StkQuery::Failed { code, message } => {
                        StatusAnswer::Found(Outcome::Failed { code, message: Some(message) })
                    }
                    StkQuery::NoChange { why } => StatusAnswer::Unclear(why),
                }
            }
        }
    }
}
