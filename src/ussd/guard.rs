//! Access guard for the USSD dialect routes (docs/ussd.md R10, statuses from R4).
//!
//! Aggregators sign nothing, so a callback is believed on up to three configured checks, applied in this
//! order: the secret path token (`404`, so a scanner cannot even tell the route exists), the caller's
//! address against `ip_allow` (`403`), then optional HTTP basic auth (`401`). [`Guard::new`] validates the
//! `dialects.<d>.*` settings once at startup; [`Guard::check`] does no IO: the route hands it the pieces of
//! the request as a [`GuardInput`].
//!
//! The caller's address is decided by [`crate::domain::netguard`], the rule every allow-list shares.
//! The token and the basic-auth credentials are kept only as SHA-256 digests and compared in constant
//! time. Neither they nor the raw `Authorization` header ever appear in an error or a `Debug` output.

use std::fmt;
use std::net::IpAddr;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::domain::constant_time::{digest, digests_eq};
use crate::domain::netguard::{AllowList, TrustedProxies};

/// Shortest accepted path token: 32 URL-safe characters carry about 190 bits, beyond guessing.
pub const MIN_TOKEN_LEN: usize = 32;

/// `dialects.<name>.*` access settings. Unknown keys are reported by the config loader, not here.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct AccessSettings {
    /// Secret path segment, at least [`MIN_TOKEN_LEN`] characters of `A-Z a-z 0-9 - _`. When set, the
    /// route is `/ussd/<d>/{token}` and the bare route answers 404. An empty string counts as unset, so
    /// an empty environment variable cannot switch the token on with a guessable value.
    pub path_token: Option<SecretString>,
    /// Addresses or CIDR ranges allowed to call; empty allows any address.
    pub ip_allow: Vec<String>,
    /// Optional HTTP basic auth.
    pub basic_auth: Option<BasicAuthSettings>,
}

/// `dialects.<name>.basic_auth`. Both fields default to empty so that a half-filled table reaches
/// [`Guard::new`], which names the missing part, instead of failing as a bare serde error.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct BasicAuthSettings {
    pub username: String,
    pub password: SecretString,
}

impl fmt::Debug for BasicAuthSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The username is half of the credential, so it is hidden like the password.
        f.debug_struct("BasicAuthSettings").field("username", &"[REDACTED]").field("password", &"[REDACTED]").finish()
    }
}

/// Every problem found in the access settings, worded for the operator. Keys are relative to
/// `dialects.<d>.` (the caller knows which dialect it is building); secrets are never quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid access settings: {}", .problems.join("; "))]
pub struct GuardConfigError {
    pub problems: Vec<String>,
}

/// Why a callback was refused; the route answers [`Refusal::status`] with an empty body (R4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("path token missing or wrong")]
    NotFound,
    #[error("caller address not in ip_allow")]
    Forbidden,
    #[error("basic auth missing or wrong")]
    Unauthorized,
}

impl Refusal {
    pub fn status(self) -> u16 {
        match self {
            Refusal::NotFound => 404,
            Refusal::Forbidden => 403,
            Refusal::Unauthorized => 401,
        }
    }

    /// The `WWW-Authenticate` value to send with a 401, which RFC 9110 requires on that status.
    pub fn challenge(self) -> Option<&'static str> {
        (self == Refusal::Unauthorized).then_some(r#"Basic realm="ussd", charset="UTF-8""#)
    }
}

/// The parts of a request the guard looks at, taken from the request by the route.
#[derive(Clone, Copy, Default)]
pub struct GuardInput<'a> {
    /// The `{token}` path segment, `None` on the bare route.
    pub path_token: Option<&'a str>,
    /// The socket peer address, `None` when the server cannot tell.
    pub peer: Option<IpAddr>,
    /// The `X-Forwarded-For` header (several headers joined with `,`).
    pub forwarded_for: Option<&'a str>,
    /// The raw `Authorization` header.
    pub authorization: Option<&'a str>,
}

impl fmt::Debug for GuardInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: Option<&str>| v.map(|_| "[REDACTED]");
        f.debug_struct("GuardInput")
            .field("path_token", &redacted(self.path_token))
            .field("peer", &self.peer)
            .field("forwarded_for", &self.forwarded_for)
            .field("authorization", &redacted(self.authorization))
            .finish()
    }
}

/// Validated access settings of one dialect. Holding one means the settings made sense at startup.
#[derive(Clone)]
pub struct Guard {
    token: Option<[u8; 32]>,
    ip_allow: AllowList,
    trusted_proxies: TrustedProxies,
    /// Digest of `username:password`, the exact bytes a client base64-encodes.
    basic_auth: Option<[u8; 32]>,
}

impl fmt::Debug for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Digests stay out too: a digest of a weak password can be brute-forced offline.
        f.debug_struct("Guard")
            .field("requires_token", &self.requires_token())
            .field("ip_allow", &self.ip_allow)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("basic_auth", &self.basic_auth.is_some())
            .finish()
    }
}

impl Guard {
    /// Validates `settings`: the token's length and alphabet, that every `ip_allow` entry is an address
    /// or CIDR range, and that basic auth has both parts. `trusted_proxies` (validated where they are
    /// configured, `server.trusted_proxies`) are the proxies whose `X-Forwarded-For` is believed.
    pub fn new(settings: &AccessSettings, trusted_proxies: &TrustedProxies) -> Result<Guard, GuardConfigError> {
        let mut problems = Vec::new();

        let token = settings.path_token.as_ref().map(|t| t.expose_secret()).filter(|t| !t.is_empty());
        if let Some(token) = token {
            if token.len() < MIN_TOKEN_LEN {
                problems.push(format!(
                    "path_token must be at least {MIN_TOKEN_LEN} characters, e.g. the output of `openssl rand -hex 32`"
                ));
            }
            if !token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
                problems.push("path_token may hold only URL-safe characters (A-Z a-z 0-9 - _)".to_owned());
            }
        }

        let ip_allow = AllowList::parse("ip_allow", &settings.ip_allow).unwrap_or_else(|bad| {
            problems.extend(bad);
            AllowList::default()
        });

        let basic_auth = settings.basic_auth.as_ref().map(|b| {
            let (user, password) = (b.username.as_str(), b.password.expose_secret());
            if user.is_empty() {
                problems.push("basic_auth.username must be set".to_owned());
            }
            // RFC 7617: the first colon separates the parts, so a colon in the username cannot be sent.
            if user.contains(':') || user.chars().any(char::is_control) {
                problems.push("basic_auth.username must not contain a colon or control characters".to_owned());
            }
            if password.is_empty() {
                problems.push("basic_auth.password must be set".to_owned());
            }
            Sha256::new().chain_update(user).chain_update(":").chain_update(password).finalize().into()
        });

        if !problems.is_empty() {
            return Err(GuardConfigError { problems });
        }
        let trusted_proxies = trusted_proxies.clone();
        Ok(Guard { token: token.map(|t| digest(t.as_bytes())), ip_allow, trusted_proxies, basic_auth })
    }

    /// Whether the route must be mounted as `/ussd/<d>/{token}`.
    pub fn requires_token(&self) -> bool {
        self.token.is_some()
    }

    /// R10's production minimum: a path token or an IP allow-list (basic auth alone does not count).
    pub fn restricts_callers(&self) -> bool {
        self.requires_token() || !self.ip_allow.is_empty()
    }

    /// Checks in R10 order and stops at the first failure: path token, then address, then basic auth.
    pub fn check(&self, req: &GuardInput<'_>) -> Result<(), Refusal> {
        let token_ok = match (&self.token, req.path_token) {
            (Some(expected), Some(given)) => digests_eq(expected, &digest(given.as_bytes())),
            (None, None) => true,
            // A token on a dialect without one, or none where one is required: no such route.
            _ => false,
        };
        if !token_ok {
            return Err(Refusal::NotFound);
        }

        if !self.ip_allow.admits(self.client_ip(req)) {
            return Err(Refusal::Forbidden);
        }

        if let Some(expected) = &self.basic_auth {
            let given = req.authorization.and_then(basic_credentials);
            if !given.is_some_and(|creds| digests_eq(expected, &digest(&creds))) {
                return Err(Refusal::Unauthorized);
            }
        }
        Ok(())
    }

    /// The caller's address under the shared trusted-proxy rule; also useful for logs.
    pub fn client_ip(&self, req: &GuardInput<'_>) -> Option<IpAddr> {
        self.trusted_proxies.client_ip(req.peer, req.forwarded_for)
    }
}

/// The decoded `user:password` bytes of a `Basic` header, or `None` if it is not one.
fn basic_credentials(header: &str) -> Option<Zeroizing<Vec<u8>>> {
    // Some clients drop the `=` padding; being lenient there costs nothing.
    const BASE64: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let (scheme, credentials) = header.trim().split_once([' ', '\t'])?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = Zeroizing::new(BASE64.decode(credentials.trim()).ok()?);
    decoded.contains(&b':').then_some(decoded)
}

#[cfg(test)]
mod tests;
