//! Safaricom M-Pesa Daraja (docs/money.md): B2C payouts, STK push collections, C2B paybill
//! payments, and the callbacks that settle them, mapped onto the neutral model of [`crate::momo`].
//!
//! - [`client`]: [`DarajaClient`] with its OAuth token cache and the outbound calls, each answer
//!   classified into what the payout and collection state machines need (docs/money.md).
//! - [`callbacks`]: pure parsers and the exact acknowledgements; callback authenticity by path token
//!   and source address, because Daraja signs nothing.
//! - [`settings`], [`urls`]: the `[daraja]` section, its validation, and the callback URLs with the
//!   startup check for words Daraja refuses.
//! - [`time`], [`msisdn`]: EAT timestamps and which phone numbers are usable.
//!
//! Money is exact throughout: amounts are read from the JSON number's text (serde_json
//! `arbitrary_precision`) into `Decimal`, never through `f64`, and sent as whole shillings.

pub mod callbacks;
pub mod client;
pub mod msisdn;
pub mod settings;
pub mod time;
pub mod urls;
pub mod wallet;

pub use callbacks::{
    classify_bill_ref, parse_b2c_result, parse_c2b_confirmation, parse_queue_timeout, parse_status_result,
    parse_stk_callback, path_token_matches, validate_c2b, BillRef, C2bValidation, CallbackError, CallbackRules,
    CorrelationKey, PayoutResult, StkCallback,
};
pub use client::{CollectionSubmit, DarajaClient, DarajaError, PayoutSubmit, StatusSubmit, StkQuery};
pub use msisdn::UsableMsisdn;
pub use settings::DarajaSettings;
pub use urls::{CallbackPath, CallbackUrls};
