//! Who is calling, for every surface with an IP allow-list (the USSD dialects' `ip_allow`, Daraja's
//! `allowed_ips`): one reading of address lists, one rule for the caller's address behind proxies.
//!
//! The caller is the TCP peer, unless the peer is one of `server.trusted_proxies`: then it is the
//! right-most `X-Forwarded-For` hop that is not itself a trusted proxy. Hops left of it were written by
//! whoever called the first proxy and can say anything, hence the walk from the right. A header from
//! an untrusted peer is never read, so it cannot talk its way past an allow-list.

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// Addresses and CIDR ranges, IPv4 or IPv6, as configured. Holding one means every entry parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetList(Vec<IpNet>);

impl NetList {
    /// Each entry is a CIDR range (host bits after the prefix are dropped) or a single address. The
    /// error names every bad entry under `key`, worded for the operator.
    pub fn parse(key: &str, entries: &[String]) -> Result<NetList, Vec<String>> {
        let mut nets = Vec::with_capacity(entries.len());
        let mut problems = Vec::new();
        for entry in entries {
            match parse_net(entry) {
                Some(net) => nets.push(net),
                None => problems.push(format!(
                    "{key}: {entry:?} is neither an IP address nor a CIDR range (e.g. 203.0.113.0/24 or 2001:db8::/32)"
                )),
            }
        }
        if problems.is_empty() {
            Ok(NetList(nets))
        } else {
            Err(problems)
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Matches the canonical form (so `::ffff:1.2.3.4` hits an IPv4 range) and the literal one (so a
    /// configured `::ffff:0:0/96` still works).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&canonical) || net.contains(&ip))
    }
}

/// An IP allow-list: empty admits everyone; otherwise only a known caller inside it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList(NetList);

impl AllowList {
    pub fn parse(key: &str, entries: &[String]) -> Result<AllowList, Vec<String>> {
        NetList::parse(key, entries).map(AllowList)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// An unknown caller (no peer address) is admitted only by an empty list.
    pub fn admits(&self, caller: Option<IpAddr>) -> bool {
        self.0.is_empty() || caller.is_some_and(|ip| self.0.contains(ip))
    }
}

/// `server.trusted_proxies`: the proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(NetList);

impl TrustedProxies {
    pub fn parse(key: &str, entries: &[String]) -> Result<TrustedProxies, Vec<String>> {
        NetList::parse(key, entries).map(TrustedProxies)
    }

    /// The caller's address from the socket `peer` and the `X-Forwarded-For` header (several headers
    /// joined with `,`). An unparseable header falls back to the peer; IPv4-mapped IPv6 addresses come
    /// back as IPv4. `None` only when the server cannot tell the peer.
    pub fn client_ip(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        if !self.0.contains(peer) {
            return Some(peer);
        }
        Some(forwarded_for.and_then(|xff| self.forwarded_client(xff)).unwrap_or(peer))
    }

    fn forwarded_client(&self, xff: &str) -> Option<IpAddr> {
        let mut leftmost = None;
        for entry in xff.rsplit(',') {
            let ip = parse_forwarded(entry)?;
            if !self.0.contains(ip) {
                return Some(ip);
            }
            leftmost = Some(ip);
        }
        // Every hop is one of our proxies: the left-most is as close to the client as we can get.
        leftmost
    }
}

/// A CIDR range, or a single address taken as /32 or /128.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn list(entries: &[&str]) -> Vec<String> {
        entries.iter().map(|e| e.to_string()).collect()
    }

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse("server.trusted_proxies", &list(entries)).unwrap()
    }

    #[test]
    fn addresses_and_ranges_of_both_families_are_matched() {
        let allowed = AllowList::parse("k", &list(&["196.201.214.200", "196.201.212.0/24", "2001:db8::/32"])).unwrap();
        for yes in ["196.201.214.200", "196.201.212.138", "::ffff:196.201.212.138", "2001:db8:1::5"] {
            assert!(allowed.admits(Some(ip(yes))), "{yes}");
        }
        for no in ["196.201.214.201", "196.201.213.1", "2001:db9::1"] {
            assert!(!allowed.admits(Some(ip(no))), "{no}");
        }
        assert!(!allowed.admits(None), "an unknown caller is not inside a list");
        let open = AllowList::default();
        assert!(open.is_empty() && open.admits(None) && open.admits(Some(ip("203.0.113.9"))));
        assert!(AllowList::parse("k", &list(&["41.0.0.9/8"])).unwrap().admits(Some(ip("41.200.1.1"))), "host bits");
    }

    #[test]
    fn every_bad_entry_is_named_under_its_key() {
        let bad =
            NetList::parse("wallets.daraja.allowed_ips", &list(&["10.0.0.0/8", "10.0.0.0/33", "x/8", "fd00::/129"]));
        let problems = bad.unwrap_err();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("wallets.daraja.allowed_ips: \"10.0.0.0/33\" is neither"), "{problems:?}");
    }

    #[test]
    fn the_peer_is_the_caller_unless_it_is_a_trusted_proxy() {
        let trusted = proxies(&["10.0.0.0/24", "fd00::/8"]);
        assert_eq!(trusted.client_ip(Some(ip("203.0.113.9")), Some("196.201.212.9")), Some(ip("203.0.113.9")));
        assert_eq!(trusted.client_ip(Some(ip("10.0.0.7")), Some("196.201.212.9")), Some(ip("196.201.212.9")));
        assert_eq!(trusted.client_ip(Some(ip("::ffff:10.0.0.7")), Some("196.201.212.9")), Some(ip("196.201.212.9")));
        assert_eq!(trusted.client_ip(Some(ip("fd00::1")), Some("[2001:db8::9]:443")), Some(ip("2001:db8::9")));
        assert_eq!(trusted.client_ip(Some(ip("10.0.0.7")), None), Some(ip("10.0.0.7")));
        assert_eq!(trusted.client_ip(None, Some("196.201.212.9")), None, "a header without a peer proves nothing");
        assert_eq!(
            TrustedProxies::default().client_ip(Some(ip("10.0.0.7")), Some("196.201.212.9")),
            Some(ip("10.0.0.7"))
        );
    }

    #[test]
    fn the_walk_takes_the_right_most_hop_that_is_not_a_trusted_proxy() {
        let trusted = proxies(&["10.0.0.0/24"]);
        let peer = Some(ip("10.0.0.7"));
        // The client prepended an allowed-looking address; our proxies appended the real one.
        assert_eq!(trusted.client_ip(peer, Some("196.201.212.9, 203.0.113.9, 10.0.0.5")), Some(ip("203.0.113.9")));
        assert_eq!(trusted.client_ip(peer, Some("10.0.0.3, 10.0.0.5")), Some(ip("10.0.0.3")), "all ours");
        assert_eq!(trusted.client_ip(peer, Some("196.201.212.9:5060")), Some(ip("196.201.212.9")));
        assert_eq!(trusted.client_ip(peer, Some("garbage, 196.201.212.9")), Some(ip("196.201.212.9")));
        assert_eq!(trusted.client_ip(peer, Some("196.201.212.9, garbage")), peer, "unreadable: the peer");
    }
}
