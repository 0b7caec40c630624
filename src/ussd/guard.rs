//! Access guard for the USSD dialect routes (spec `ussd-dialects.md` R10, statuses from R4).
//!
//! Aggregators sign nothing, so a callback is believed on up to three configured checks, applied in this
//! order: the secret path token (`404`, so a scanner cannot even tell the route exists), the caller's
//! address against `ip_allow` (`403`), then optional HTTP basic auth (`401`). [`Guard::new`] validates the
//! `dialects.<d>.*` settings once at startup; [`Guard::check`] does no IO: the route hands it the pieces of
//! the request as a [`GuardInput`].
//!
//! The token and the basic-auth credentials are kept only as SHA-256 digests and compared in constant
//! time. Neither they nor the raw `Authorization` header ever appear in an error or a `Debug` output.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use ipnet::IpNet;
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

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
    ip_allow: Vec<IpNet>,
    trusted_proxies: Vec<IpNet>,
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
    /// Validates `settings`: the token's length and alphabet, that every `ip_allow` and
    /// `trusted_proxies` entry is an address or CIDR range, and that basic auth has both parts.
    /// `trusted_proxies` are the proxies whose `X-Forwarded-For` is believed.
    pub fn new(settings: &AccessSettings, trusted_proxies: &[String]) -> Result<Guard, GuardConfigError> {
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

        let ip_allow = parse_nets("ip_allow", &settings.ip_allow, &mut problems);
        let trusted_proxies = parse_nets("trusted_proxies", trusted_proxies, &mut problems);

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
            (Some(expected), Some(given)) => same_digest(expected, &digest(given.as_bytes())),
            (None, None) => true,
            // A token on a dialect without one, or none where one is required: no such route.
            _ => false,
        };
        if !token_ok {
            return Err(Refusal::NotFound);
        }

        if !self.ip_allow.is_empty() && !self.client_ip(req).is_some_and(|ip| any_contains(&self.ip_allow, ip)) {
            return Err(Refusal::Forbidden);
        }

        if let Some(expected) = &self.basic_auth {
            let given = req.authorization.and_then(basic_credentials);
            if !given.is_some_and(|creds| same_digest(expected, &digest(&creds))) {
                return Err(Refusal::Unauthorized);
            }
        }
        Ok(())
    }

    /// The caller's address: the peer, unless the peer is a trusted proxy, in which case the right-most
    /// `X-Forwarded-For` entry that is not itself a trusted proxy. Entries left of it were written by the
    /// client and can say anything, hence the right-to-left walk. An unparseable header falls back to the
    /// peer. IPv4-mapped IPv6 addresses come back as IPv4. Also useful for logs and rate limiting.
    pub fn client_ip(&self, req: &GuardInput<'_>) -> Option<IpAddr> {
        let peer = req.peer?.to_canonical();
        if !any_contains(&self.trusted_proxies, peer) {
            return Some(peer);
        }
        Some(req.forwarded_for.and_then(|xff| self.forwarded_client(xff)).unwrap_or(peer))
    }

    fn forwarded_client(&self, xff: &str) -> Option<IpAddr> {
        let mut leftmost = None;
        for entry in xff.rsplit(',') {
            let ip = parse_forwarded(entry)?;
            if !any_contains(&self.trusted_proxies, ip) {
                return Some(ip);
            }
            leftmost = Some(ip);
        }
        // Every hop is one of our proxies: the left-most is as close to the client as we can get.
        leftmost
    }
}

fn parse_nets(key: &str, entries: &[String], problems: &mut Vec<String>) -> Vec<IpNet> {
    let mut nets = Vec::with_capacity(entries.len());
    for entry in entries {
        match parse_net(entry) {
            Some(net) => nets.push(net),
            None => problems.push(format!(
                "{key}: {entry:?} is neither an IP address nor a CIDR range (e.g. 196.201.214.0/24 or 2001:db8::/32)"
            )),
        }
    }
    nets
}

/// A CIDR range, or a single address taken as /32 or /128. Host bits after the prefix are dropped.
fn parse_net(entry: &str) -> Option<IpNet> {
    let entry = entry.trim();
    match entry.parse::<IpNet>() {
        Ok(net) => Some(net.trunc()),
        Err(_) => entry.parse::<IpAddr>().ok().map(IpNet::from),
    }
}

/// An `X-Forwarded-For` entry: a bare address, or `addr:port` / `[v6]:port` as some proxies write it.
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry.parse::<IpAddr>().ok().or_else(|| entry.parse::<SocketAddr>().ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

/// Matches the canonical form (so `::ffff:1.2.3.4` hits an IPv4 range) and the literal one (so a
/// configured `::ffff:0:0/96` still works).
fn any_contains(nets: &[IpNet], ip: IpAddr) -> bool {
    let canonical = ip.to_canonical();
    nets.iter().any(|net| net.contains(&canonical) || net.contains(&ip))
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

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Both sides are digests of the same length, so neither the secret's length nor the position of the
/// first wrong byte shows in the timing.
fn same_digest(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let difference = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(difference) == 0
}

#[cfg(test)]
mod tests;
