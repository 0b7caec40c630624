//! Callback authenticity (spec mobile-money §4.2). Daraja signs nothing, so two checks stand in for a
//! signature: the secret path token (mismatch → `404`) and the source address (not allowed → `403`).

use std::net::IpAddr;

/// Compares the configured token with the one in the request path in constant time, so response
/// timing reveals nothing about how much of a guess was right. The time depends only on the length
/// of `expected`, which is not secret. An empty `expected` never matches.
pub fn path_token_matches(expected: &str, given: &str) -> bool {
    let (expected, given) = (expected.as_bytes(), given.as_bytes());
    if expected.is_empty() {
        return false;
    }
    let mut difference = expected.len() ^ given.len();
    for (i, byte) in expected.iter().enumerate() {
        difference |= usize::from(byte ^ given.get(i).copied().unwrap_or(0));
    }
    std::hint::black_box(difference) == 0
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is neither an IP address nor a CIDR range")]
pub struct IpListError(pub String);

/// Parsed `daraja.allowed_ips`: addresses and CIDR ranges, IPv4 or IPv6. Empty allows everyone
/// (the sandbox calls back from addresses Safaricom does not publish).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpAllowList(Vec<(IpAddr, u8)>);

impl IpAllowList {
    pub fn parse(entries: &[String]) -> Result<Self, IpListError> {
        entries
            .iter()
            .map(|entry| parse_net(entry).ok_or_else(|| IpListError(entry.clone())))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        // A proxy or dual-stack socket may report `::ffff:196.201.214.200` for an IPv4 peer.
        let ip = ip.to_canonical();
        self.0.is_empty() || self.0.iter().any(|&(net, prefix)| contains(net, prefix, ip))
    }
}

/// `allow_list` as configured (addresses or CIDR ranges); empty allows all. Entries that do not parse
/// match nothing, so a typo narrows the list rather than opening it; `validate()` reports them.
pub fn ip_allowed(allow_list: &[String], ip: IpAddr) -> bool {
    if allow_list.is_empty() {
        return true;
    }
    let ip = ip.to_canonical();
    allow_list.iter().filter_map(|entry| parse_net(entry)).any(|(net, prefix)| contains(net, prefix, ip))
}

fn parse_net(entry: &str) -> Option<(IpAddr, u8)> {
    let entry = entry.trim();
    let (addr, prefix) = match entry.split_once('/') {
        Some((addr, prefix)) if !prefix.is_empty() && prefix.bytes().all(|b| b.is_ascii_digit()) => {
            (addr.parse::<IpAddr>().ok()?, prefix.parse::<u8>().ok()?)
        }
        Some(_) => return None,
        None => {
            let addr = entry.parse::<IpAddr>().ok()?;
            (addr, if addr.is_ipv4() { 32 } else { 128 })
        }
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some((addr.to_canonical(), prefix))
}

fn contains(net: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn list(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|e| e.to_string()).collect()
    }

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

    #[test]
    fn addresses_and_ranges_are_matched_and_an_empty_list_allows_all() {
        let allowed = list(&["196.201.214.200", "196.201.212.0/24", "2001:db8::/32"]);
        assert!(ip_allowed(&allowed, ip("196.201.214.200")));
        assert!(ip_allowed(&allowed, ip("196.201.212.138")));
        assert!(ip_allowed(&allowed, ip("::ffff:196.201.212.138")));
        assert!(ip_allowed(&allowed, ip("2001:db8:1::5")));
        assert!(!ip_allowed(&allowed, ip("196.201.214.201")));
        assert!(!ip_allowed(&allowed, ip("196.201.213.1")));
        assert!(!ip_allowed(&allowed, ip("2001:db9::1")));
        assert!(ip_allowed(&[], ip("203.0.113.9")));
        assert!(IpAllowList::default().allows(ip("203.0.113.9")));
        assert!(ip_allowed(&list(&["0.0.0.0/0"]), ip("8.8.8.8")));
    }

    #[test]
    fn a_list_of_typos_allows_nobody_and_the_parser_names_the_bad_entry() {
        assert!(!ip_allowed(&list(&["196.201.214.300", "10.0.0.0/33", "x/8", "10.0.0.0/"]), ip("10.0.0.1")));
        assert_eq!(IpAllowList::parse(&list(&["10.0.0.0/8", "oops"])), Err(IpListError("oops".into())));
        let parsed = IpAllowList::parse(&list(&["10.0.0.0/8"])).unwrap();
        assert!(parsed.allows(ip("10.9.8.7")) && !parsed.allows(ip("11.0.0.1")));
    }
}
