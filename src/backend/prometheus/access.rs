//! Who may ask, and how often: the IP/CIDR allowlist (403), rate limits per client (before
//! authentication) and in total (after it), 429 with `Retry-After`, and requests in flight
//! (503), of which one client address holds at most a quarter. Every bound has a default.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::{RateLimit, Settings};
use super::per_client::{Held, PerClient};

/// Client addresses tracked by the per-client limiter before stale ones are dropped.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// Over a rate limit: 429, retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RateLimited(pub(crate) u64);

pub(crate) struct Access {
    settings: Arc<Settings>,
    clients: RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, DefaultClock>,
    global: RateLimiter<NotKeyed, InMemoryState, DefaultClock>,
    in_flight: Arc<Semaphore>,
    in_flight_by_client: PerClient,
}

/// One request's slot (and its client's place in its share); given back when dropped.
pub(crate) struct Slot {
    _permit: OwnedSemaphorePermit,
    _share: Option<Held>,
}

fn quota(r: RateLimit) -> Quota {
    let per_second = NonZeroU32::new(r.per_second).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(r.burst).unwrap_or(NonZeroU32::MIN);
    Quota::per_second(per_second).allow_burst(burst)
}

impl Access {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        Self {
            clients: RateLimiter::keyed(quota(settings.client_rate)),
            global: RateLimiter::direct(quota(settings.global_rate)),
            in_flight: Arc::new(Semaphore::new(settings.max_in_flight)),
            in_flight_by_client: PerClient::new(settings.max_in_flight / 4),
            settings,
        }
    }

    /// Whether `peer` passes the IP allowlist (everyone when there is none).
    pub(crate) fn allowed(&self, peer: Option<IpAddr>) -> bool {
        self.settings.allow.is_empty()
            || peer.is_some_and(|ip| {
                let ip = canonical(ip);
                self.settings.allow.iter().any(|net| net.contains(&ip))
            })
    }

    /// Spends one request of `peer`'s own budget: checked before authentication, so a client
    /// that floods is refused before it costs a password check.
    pub(crate) fn client_budget(&self, peer: Option<IpAddr>) -> Result<(), RateLimited> {
        if let Some(ip) = peer {
            if self.clients.len() >= MAX_TRACKED_CLIENTS {
                self.clients.retain_recent();
            }
            if self.clients.len() >= MAX_TRACKED_CLIENTS {
                // Still full of live clients: refuse new ones rather than grow without bound.
                return Err(RateLimited(1));
            }
            if let Err(not_until) = self.clients.check_key(&canonical(ip)) {
                return Err(RateLimited(retry_after(not_until.wait_time_from(DefaultClock::default().now()))));
            }
        }
        Ok(())
    }

    /// Spends one request of the global budget: checked after authentication, so only
    /// requests that authenticated (or any, when no auth is configured) spend it.
    pub(crate) fn global_budget(&self) -> Result<(), RateLimited> {
        if let Err(not_until) = self.global.check() {
            return Err(RateLimited(retry_after(not_until.wait_time_from(DefaultClock::default().now()))));
        }
        Ok(())
    }

    /// A slot for one request, or `None` when the in-flight limit is reached or `peer` holds
    /// its share of it already (a quarter, at least one): a client whose requests pile up
    /// (pipelined on many connections behind a slow render) cannot take every slot.
    pub(crate) fn begin(&self, peer: Option<IpAddr>) -> Option<Slot> {
        let share = match peer {
            Some(ip) => Some(self.in_flight_by_client.admit(ip)?),
            None => None,
        };
        let permit = Arc::clone(&self.in_flight).try_acquire_owned().ok()?;
        Some(Slot { _permit: permit, _share: share })
    }
}

/// An IPv4 address mapped into IPv6 counts as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn retry_after(wait: std::time::Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}
