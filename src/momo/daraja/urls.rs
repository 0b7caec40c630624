//! The callback URLs we hand to Daraja (docs/money.md):
//! `{callback_base_url}/v1/callbacks/daraja/{path_token}/{path}`.
//!
//! Daraja does not sign callbacks, so the secret path token is what tells our callbacks from anyone
//! else's POST. Daraja also refuses URLs containing certain words; a token or host that happens to
//! contain one would only fail at registration time, so [`CallbackUrls::new`] refuses it at startup.

use secrecy::{ExposeSecret, SecretString};

/// Words Daraja rejects anywhere in a callback URL, matched case-insensitively as substrings.
pub const FORBIDDEN_WORDS: [&str; 7] = ["mpesa", "safaricom", "exe", "exec", "cmd", "sql", "query"];

/// The mount point of the Daraja callbacks under the gateway base URL.
pub const CALLBACK_PREFIX: &str = "/v1/callbacks/daraja";

/// Every callback path Daraja may call, relative to `{prefix}/{path_token}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallbackPath {
    C2bValidation,
    C2bConfirmation,
    Stk,
    B2cResult,
    B2cTimeout,
    StatusResult,
    StatusTimeout,
}

impl CallbackPath {
    pub const ALL: [CallbackPath; 7] = [
        CallbackPath::C2bValidation,
        CallbackPath::C2bConfirmation,
        CallbackPath::Stk,
        CallbackPath::B2cResult,
        CallbackPath::B2cTimeout,
        CallbackPath::StatusResult,
        CallbackPath::StatusTimeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallbackPath::C2bValidation => "c2b/validation",
            CallbackPath::C2bConfirmation => "c2b/confirmation",
            CallbackPath::Stk => "stk",
            CallbackPath::B2cResult => "b2c/result",
            CallbackPath::B2cTimeout => "b2c/timeout",
            CallbackPath::StatusResult => "status/result",
            CallbackPath::StatusTimeout => "status/timeout",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackUrlError {
    /// Names the part, never the token itself: the token is a secret.
    #[error("daraja.{part} contains `{word}`, which Daraja rejects in callback URLs; choose another value")]
    ForbiddenWord { part: &'static str, word: &'static str },
    #[error("daraja.callback_base_url must be an http(s) URL without a trailing slash, e.g. https://gw.example.com")]
    BaseUrl,
    #[error("daraja.path_token must hold only base64url characters (A-Z a-z 0-9 - _)")]
    TokenAlphabet,
}

/// The first forbidden word inside `text`, case-insensitively.
pub fn forbidden_word(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    FORBIDDEN_WORDS.into_iter().find(|word| lower.contains(word))
}

/// Builds callback URLs; holding one means every URL it builds is acceptable to Daraja.
#[derive(Clone)]
pub struct CallbackUrls {
    base: String,
    token: SecretString,
}

impl CallbackUrls {
    /// The startup check: refuses a base URL or token that would put a forbidden word into any URL.
    pub fn new(callback_base_url: &str, path_token: &SecretString) -> Result<Self, CallbackUrlError> {
        let base = callback_base_url.trim();
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.ends_with('/') || base.contains('?') {
            return Err(CallbackUrlError::BaseUrl);
        }
        let token = path_token.expose_secret();
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(CallbackUrlError::TokenAlphabet);
        }
        if let Some(word) = forbidden_word(base) {
            return Err(CallbackUrlError::ForbiddenWord { part: "callback_base_url", word });
        }
        if let Some(word) = forbidden_word(token) {
            return Err(CallbackUrlError::ForbiddenWord { part: "path_token", word });
        }
        // The fixed parts are ours; checking them too keeps the guarantee if a path is ever renamed.
        for part in std::iter::once(CALLBACK_PREFIX).chain(CallbackPath::ALL.map(CallbackPath::as_str)) {
            if let Some(word) = forbidden_word(part) {
                return Err(CallbackUrlError::ForbiddenWord { part: "callback paths", word });
            }
        }
        Ok(Self { base: base.to_owned(), token: path_token.clone() })
    }

    /// The full URL for one callback. It contains the path token: never log it.
    pub fn url(&self, path: CallbackPath) -> String {
        format!("{}{CALLBACK_PREFIX}/{}/{}", self.base, self.token.expose_secret(), path.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "k3Jt9QwZp2Lx7VbN4mRc8A";

    #[test]
    fn urls_follow_the_callback_layout() {
        let urls = CallbackUrls::new("https://gw.example.com", &TOKEN.into()).unwrap();
        assert_eq!(
            urls.url(CallbackPath::B2cResult),
            format!("https://gw.example.com/v1/callbacks/daraja/{TOKEN}/b2c/result")
        );
        assert_eq!(urls.url(CallbackPath::Stk), format!("https://gw.example.com/v1/callbacks/daraja/{TOKEN}/stk"));
    }

    #[test]
    fn none_of_our_fixed_paths_contains_a_forbidden_word() {
        for path in CallbackPath::ALL {
            assert_eq!(forbidden_word(path.as_str()), None, "{path:?}");
        }
        assert_eq!(forbidden_word(CALLBACK_PREFIX), None);
    }

    #[test]
    fn a_forbidden_word_in_the_host_or_token_fails_the_startup_check() {
        let err = CallbackUrls::new("https://mpesa.example.com", &TOKEN.into()).err();
        assert_eq!(err, Some(CallbackUrlError::ForbiddenWord { part: "callback_base_url", word: "mpesa" }));
        let err = CallbackUrls::new("https://gw.example.com", &"k3Jt9QwZp2LxEXEcVbN4mRc8A".into()).err();
        assert_eq!(err, Some(CallbackUrlError::ForbiddenWord { part: "path_token", word: "exe" }));
        let err = CallbackUrls::new("https://gw.example.com/Query", &TOKEN.into()).err();
        assert_eq!(err, Some(CallbackUrlError::ForbiddenWord { part: "callback_base_url", word: "query" }));
    }

    #[test]
    fn a_malformed_base_or_token_fails_the_startup_check() {
        assert_eq!(CallbackUrls::new("gw.example.com", &TOKEN.into()).err(), Some(CallbackUrlError::BaseUrl));
        assert_eq!(CallbackUrls::new("https://gw.example.com/", &TOKEN.into()).err(), Some(CallbackUrlError::BaseUrl));
        assert_eq!(
            CallbackUrls::new("https://gw.example.com", &"a/b".into()).err(),
            Some(CallbackUrlError::TokenAlphabet)
        );
        assert_eq!(
            CallbackUrls::new("https://gw.example.com", &"".into()).err(),
            Some(CallbackUrlError::TokenAlphabet)
        );
    }
}
