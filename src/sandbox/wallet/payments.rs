//! Wallet-initiated payments (sandbox only): the subscriber pays our business number from the wallet
//! menu, typing an account reference or not. The wallet records a completed `payment` (no reference,
//! a fresh receipt) and delivers one `payment.received` callback.

use actix_web::{web, HttpResponse};
use rust_decimal::Decimal;

use super::auth::Wallet;
use super::delivery;
use super::errors::WalletError;
use super::state::{require_runtime, SandboxWallet};
use super::transaction::{now, TransactionKind, TransactionStatus, TransactionView};
use super::wire::{self, check_amount, check_currency, check_msisdn, Problems};

/// Longest account text a subscriber may type, in characters.
const MAX_ACCOUNT_CHARS: usize = 100;

/// `POST /payments` with `{"msisdn", "amount", "currency"?, "account"?}` → `202` with the transaction.
/// `currency` defaults to the wallet's; `amount` may be a decimal string or a JSON number.
pub(crate) async fn post(Wallet(wallet): Wallet, body: web::Bytes) -> Result<HttpResponse, WalletError> {
    let request = wire::payment(&body)?;
    let currency = request.currency.unwrap_or_else(|| wallet.config().currency.clone());
    let view = wallet.record_payment(&request.msisdn, request.amount, &currency, request.account)?;
    Ok(HttpResponse::Accepted().json(view))
}

impl SandboxWallet {
    /// Checks, records and announces one payment; `account` is trimmed, blank means none.
    pub(crate) fn record_payment(
        &self,
        msisdn: &str,
        amount: Decimal,
        currency: &str,
        account: Option<String>,
    ) -> Result<TransactionView, WalletError> {
        require_runtime()?;
        let mut problems = Problems::default();
        check_msisdn(msisdn, &mut problems);
        check_amount(amount, &mut problems);
        check_currency(currency, &self.config().currency, &mut problems);
        let account = account.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
        if account.as_ref().is_some_and(|a| a.chars().count() > MAX_ACCOUNT_CHARS) {
            problems.add(format!("account must be at most {MAX_ACCOUNT_CHARS} characters"));
        }
        problems.check()?;
        let view = self.with_state(|s| {
            let view = TransactionView {
                kind: TransactionKind::Payment,
                reference: None,
                receipt: Some(s.mint_receipt()),
                account,
                msisdn: msisdn.to_owned(),
                amount,
                currency: currency.to_owned(),
                status: TransactionStatus::Completed,
                failure_code: None,
                failure_message: None,
                occurred_at: Some(now()),
            };
            s.insert(view.clone());
            view
        });
        tracing::info!(receipt = view.receipt.as_deref(), "sandbox wallet: payment received");
        delivery::dispatch(self, &view);
        Ok(view)
    }
}
