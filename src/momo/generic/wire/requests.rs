//! The bodies of `POST /payouts` and `POST /collections`, built from the neutral
//! [`OutboundRequest`]. Field names and order are the contract's; amounts always carry two decimals.
//! Both also deserialise, for the sandbox wallet that receives them.

use serde::{Deserialize, Serialize};

use super::fields::{Currency, WireAmount, WireReference};
use crate::domain::Msisdn;
use crate::momo::{Direction, OutboundRequest};

/// `description` may be shown to the subscriber and is capped by the contract.
pub const DESCRIPTION_MAX_CHARS: usize = 100;

/// Why a request could not be put on the wire. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("the amount must be above zero with at most two decimals and fifteen integer digits")]
    InvalidAmount,
    #[error("the currency must be three upper-case letters")]
    InvalidCurrency,
    #[error("a collection needs the loan externalId as its account")]
    MissingAccount,
    #[error("this request is a {0:?}, not the kind of body asked for")]
    WrongDirection(Direction),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayoutRequest {
    pub reference: WireReference,
    pub msisdn: Msisdn,
    pub amount: WireAmount,
    pub currency: Currency,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionRequest {
    pub reference: WireReference,
    pub msisdn: Msisdn,
    pub amount: WireAmount,
    pub currency: Currency,
    /// The loan externalId the money is for; echoed in the transaction object.
    pub account: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The fields both bodies share, checked once.
fn common(request: &OutboundRequest) -> Result<(WireAmount, Currency, Option<String>), RequestError> {
    // Requests must be > 0; an amount with more than two decimals is refused, never rounded.
    let amount =
        WireAmount::new(request.amount.amount).filter(|a| !a.value().is_zero()).ok_or(RequestError::InvalidAmount)?;
    let currency = Currency::parse(&request.amount.currency).ok_or(RequestError::InvalidCurrency)?;
    let description = request
        .description
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| d.chars().take(DESCRIPTION_MAX_CHARS).collect());
    Ok((amount, currency, description))
}

impl PayoutRequest {
    pub fn from_outbound(request: &OutboundRequest) -> Result<Self, RequestError> {
        if request.direction != Direction::Payout {
            return Err(RequestError::WrongDirection(request.direction));
        }
        let (amount, currency, description) = common(request)?;
        Ok(Self {
            reference: WireReference::from(&request.reference),
            msisdn: request.msisdn.clone(),
            amount,
            currency,
            description,
        })
    }
}

impl CollectionRequest {
    pub fn from_outbound(request: &OutboundRequest) -> Result<Self, RequestError> {
        if request.direction != Direction::Collection {
            return Err(RequestError::WrongDirection(request.direction));
        }
        let (amount, currency, description) = common(request)?;
        let account = request.account.as_deref().map(str::trim).filter(|a| !a.is_empty());
        Ok(Self {
            reference: WireReference::from(&request.reference),
            msisdn: request.msisdn.clone(),
            amount,
            currency,
            account: account.ok_or(RequestError::MissingAccount)?.to_owned(),
            description,
        })
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;

    use super::*;
    use crate::momo::{Money, Reference};

    fn outbound(direction: Direction, reference: &str, minor: i64, account: Option<&str>) -> OutboundRequest {
        OutboundRequest {
            reference: Reference::parse(reference).unwrap(),
            direction,
            msisdn: Msisdn::parse("0712345678", "255").unwrap(),
            amount: Money::new(Decimal::new(minor, 2), "TZS"),
            account: account.map(str::to_owned),
            description: None,
        }
    }

    #[test]
    fn the_payout_body_is_the_spec_example_byte_for_byte() {
        let mut request = outbound(Direction::Payout, "L0000123455", 5_000_000, None);
        request.description = Some("Mkopo loan L0000123455".into());
        let body = serde_json::to_string(&PayoutRequest::from_outbound(&request).unwrap()).unwrap();
        assert_eq!(
            body,
            r#"{"reference":"L0000123455","msisdn":"255712345678","amount":"50000.00","currency":"TZS","description":"Mkopo loan L0000123455"}"#
        );
    }

    #[test]
    fn the_collection_body_is_the_spec_example_byte_for_byte() {
        let mut request = outbound(Direction::Collection, "C0000000174", 1_110_000, Some("L0000123455"));
        request.description = Some("Mkopo repayment".into());
        let body = serde_json::to_string(&CollectionRequest::from_outbound(&request).unwrap()).unwrap();
        assert_eq!(
            body,
            r#"{"reference":"C0000000174","msisdn":"255712345678","amount":"11100.00","currency":"TZS","account":"L0000123455","description":"Mkopo repayment"}"#
        );
    }

    #[test]
    fn a_missing_description_is_omitted_and_a_long_one_is_cut_to_100_characters() {
        let mut request = outbound(Direction::Payout, "L0000123455", 100, None);
        let body = serde_json::to_string(&PayoutRequest::from_outbound(&request).unwrap()).unwrap();
        assert!(!body.contains("description"), "{body}");
        request.description = Some("é".repeat(150));
        let cut = PayoutRequest::from_outbound(&request).unwrap().description.unwrap();
        assert_eq!(cut.chars().count(), DESCRIPTION_MAX_CHARS);
    }

    #[test]
    fn requests_that_have_no_valid_wire_form_are_refused_before_sending() {
        let zero = outbound(Direction::Payout, "L0000123455", 0, None);
        assert_eq!(PayoutRequest::from_outbound(&zero), Err(RequestError::InvalidAmount));
        let mut precise = outbound(Direction::Payout, "L0000123455", 1, None);
        precise.amount.amount = Decimal::new(1234, 3);
        assert_eq!(PayoutRequest::from_outbound(&precise), Err(RequestError::InvalidAmount));
        let no_account = outbound(Direction::Collection, "C0000000174", 100, Some("  "));
        assert_eq!(CollectionRequest::from_outbound(&no_account), Err(RequestError::MissingAccount));
        let payout = outbound(Direction::Payout, "L0000123455", 100, None);
        assert!(CollectionRequest::from_outbound(&payout).is_err());
    }
}
