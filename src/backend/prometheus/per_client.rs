//! Connections per client address: one address (an IPv6 client by its /64, which one host
//! usually owns whole) may hold only a small share of the endpoint's connections, so a few
//! addresses holding slow or idle connections cannot lock the scraper out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use parking_lot::Mutex;

/// An IPv4 address, or the /64 prefix of an IPv6 one (IPv4-mapped addresses count as IPv4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ClientKey {
    V4(u32),
    V6Prefix(u64),
}

impl ClientKey {
    pub(crate) fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => ClientKey::V4(u32::from(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => ClientKey::V4(u32::from(v4)),
                None => ClientKey::V6Prefix((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// Open connections by client, bounded per client.
pub(crate) struct PerClient {
    limit: usize,
    open: Arc<Mutex<HashMap<ClientKey, usize>>>,
}

/// One connection's place in its client's share; given back when dropped.
pub(crate) struct Held {
    key: ClientKey,
    open: Arc<Mutex<HashMap<ClientKey, usize>>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut open = self.open.lock();
        if let Some(n) = open.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}

impl PerClient {
    pub(crate) fn new(limit: usize) -> Self {
        Self { limit: limit.max(1), open: Arc::default() }
    }

    /// A place for one more connection from `ip`, or `None` when it holds its share already.
    /// The map holds at most one entry per client with an open connection, so at most the
    /// endpoint's connection limit.
    pub(crate) fn admit(&self, ip: IpAddr) -> Option<Held> {
        let key = ClientKey::of(ip);
        let mut open = self.open.lock();
        let n = open.entry(key).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(Held { key, open: Arc::clone(&self.open) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_client_gets_its_share_and_gives_it_back() {
        let p = PerClient::new(2);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let (x, y) = (p.admit(a).unwrap(), p.admit(a).unwrap());
        assert!(p.admit(a).is_none());
        assert!(p.admit("127.0.0.3".parse().unwrap()).is_some());
        drop(x);
        assert!(p.admit(a).is_some());
        drop(y);
    }

    #[test]
    fn ipv6_clients_are_grouped_by_their_64() {
        let p = PerClient::new(1);
        let _held = p.admit("2001:db8:1:2::1".parse().unwrap()).unwrap();
        assert!(p.admit("2001:db8:1:2:ffff::9".parse().unwrap()).is_none(), "same /64");
        assert!(p.admit("2001:db8:1:3::1".parse().unwrap()).is_some(), "another /64");
        let _v4 = p.admit("10.0.0.1".parse().unwrap()).unwrap();
        assert!(p.admit("::ffff:10.0.0.1".parse().unwrap()).is_none(), "mapped IPv4 is the IPv4 address");
    }
}
