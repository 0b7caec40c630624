//! Identifiers the wallet mints: receipts (`SB` + 8 characters, 10 in all) and webhook event ids
//! (`evt_` + 26 characters). Both use upper-case letters and digits only. Receipt uniqueness is enforced
//! by the state, which remembers every receipt it handed out.

use rand::Rng;

const ALPHABET: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// `len` random upper-case alphanumerics.
fn random_code(len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())])).collect()
}

/// A receipt candidate: 10 upper-case alphanumerics starting `SB` (for "sandbox").
pub(crate) fn receipt_candidate() -> String {
    format!("SB{}", random_code(8))
}

/// A fresh Standard Webhooks event id: `evt_` + 26 upper-case alphanumerics.
pub(crate) fn webhook_id() -> String {
    format!("evt_{}", random_code(26))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_documented_shape() {
        let receipt = receipt_candidate();
        assert_eq!(receipt.len(), 10);
        assert!(receipt.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{receipt}");
        let id = webhook_id();
        let tail = id.strip_prefix("evt_").expect("evt_ prefix");
        assert_eq!(tail.len(), 26);
        assert!(tail.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()), "{id}");
    }
}
