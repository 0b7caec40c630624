//! The one comparison of secrets a caller sends (path tokens, bearer tokens, basic-auth credentials).
//!
//! Both sides are reduced to SHA-256 digests first, so the time taken depends neither on where the
//! first wrong byte is nor on either length, and a holder can keep only the digest of its secret.
//! Webhook MACs are checked by the `hmac` crate's own constant-time `verify_slice`.

use sha2::{Digest, Sha256};

/// Whether `given` equals `expected`, in time independent of their contents and lengths.
pub fn eq(given: &[u8], expected: &[u8]) -> bool {
    digests_eq(&digest(given), &digest(expected))
}

/// The digest a secret is kept as.
pub fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Compares two digests without stopping at the first difference.
pub fn digests_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keeps the optimiser from turning the fold back into an early-exit comparison.
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_bytes_are_equal() {
        let token = b"k3Jt9QwZp2Lx7VbN4mRc8A";
        assert!(eq(token, token));
        for wrong in [&b""[..], b"k3Jt9QwZp2Lx7VbN4mRc8", b"k3Jt9QwZp2Lx7VbN4mRc8AA", b"K3Jt9QwZp2Lx7VbN4mRc8A"] {
            assert!(!eq(wrong, token), "{wrong:?}");
        }
        assert!(eq(b"", b""), "two empty strings are equal: callers refuse an unset secret themselves");
        assert!(digests_eq(&digest(b"a"), &digest(b"a")) && !digests_eq(&digest(b"a"), &digest(b"b")));
    }
}
