//! Callback authenticity (docs/money.md). Daraja signs nothing, so two checks stand in for a
//! signature: the secret path token (mismatch → `404`, here) and the source address (not allowed →
//! `403`, decided by [`crate::domain::netguard`] like every other IP allow-list, behind proxies too).

use crate::domain::constant_time;

/// Compares the configured token with the one in the request path in constant time, so response
/// timing reveals nothing about how much of a guess was right. An empty `expected` never matches.
pub fn path_token_matches(expected: &str, given: &str) -> bool {
    !expected.is_empty() && constant_time::eq(given.as_bytes(), expected.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_matches() {
        let token = "k3Jt9QwZp2Lx7VbN4mRc8A";
        assert!(path_token_matches(token, token));
        for wrong in
            ["", "k3Jt9QwZp2Lx7VbN4mRc8", "k3Jt9QwZp2Lx7VbN4mRc8AA", "k3Jt9QwZp2Lx7VbN4mRc8B", "K3Jt9QwZp2Lx7VbN4mRc8A"]
        {
            assert!(!path_token_matches(token, wrong), "{wrong}");
        }
        assert!(!path_token_matches("", ""), "an unconfigured token must not match an empty path segment");
    }
}
