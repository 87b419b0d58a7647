//! Basic and Bearer authentication, constant-time, with no user enumeration by timing, and a
//! bounded cache of verified Basic credentials so a scrape does not pay bcrypt every time.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use parking_lot::Mutex;
use subtle::ConstantTimeEq;

use super::config::{Password, Settings};

/// How long a verified Basic credential is trusted without bcrypt.
const CACHE_TTL: Duration = Duration::from_secs(300);
/// Most credentials cached; the cache is emptied when full.
const CACHE_MAX: usize = 1024;
/// bcrypt verifications running at once: a flood of wrong passwords waits for these instead
/// of filling the blocking pool.
const MAX_CONCURRENT_BCRYPT: usize = 2;

/// The result of checking a request's `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Allowed,
    Denied,
}

pub(crate) struct Auth {
    settings: Arc<Settings>,
    /// Keyed hashes of verified `user:password` pairs → when they were verified. The key is
    /// random per process, so the cache holds no password, and no reversible form of one.
    cache: Mutex<HashMap<u64, Instant>>,
    keys: std::collections::hash_map::RandomState,
    bcrypt_slots: Arc<tokio::sync::Semaphore>,
    /// Verified against when the user is unknown, so unknown users cost what known ones do.
    dummy: String,
}

impl Auth {
    pub(crate) fn new(settings: Arc<Settings>) -> Self {
        let cost = settings
            .basic
            .iter()
            .find_map(|(_, p)| match p {
                Password::Bcrypt(h) => h.get(4..6).and_then(|c| c.parse::<u32>().ok()),
                Password::Plain(_) => None,
            })
            .unwrap_or(4);
        let dummy = if settings.basic.iter().any(|(_, p)| matches!(p, Password::Bcrypt(_))) {
            // Same cost as the real hashes (up to 16, about a second), so an unknown user takes
            // as long as a known one.
            bcrypt::hash("codomyrmex-dummy-password", cost.clamp(4, 16)).unwrap_or_default()
        } else {
            String::new()
        };
        Self {
            settings,
            cache: Mutex::new(HashMap::new()),
            keys: Default::default(),
            bcrypt_slots: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_BCRYPT)),
            dummy,
        }
    }

    pub(crate) fn required(&self) -> bool {
        self.settings.has_auth()
    }

    /// The `WWW-Authenticate` challenge for a 401.
    pub(crate) fn challenge(&self) -> &'static str {
        match (self.settings.basic.is_empty(), self.settings.bearer.is_empty()) {
            (false, false) => "Basic realm=\"metrics\", Bearer realm=\"metrics\"",
            (false, true) => "Basic realm=\"metrics\"",
            _ => "Bearer realm=\"metrics\"",
        }
    }

    /// Checks an `Authorization` header value. bcrypt runs on the blocking pool.
    pub(crate) async fn check(self: &Arc<Self>, header: Option<&[u8]>) -> Verdict {
        if !self.required() {
            return Verdict::Allowed;
        }
        let Some(header) = header else { return Verdict::Denied };
        if let Some(token) = strip_scheme(header, b"bearer ") {
            let ok =
                self.settings.bearer.iter().fold(0u8, |acc, t| acc | u8::from(bool::from(t.as_slice().ct_eq(token))));
            return if ok == 1 { Verdict::Allowed } else { Verdict::Denied };
        }
        let Some(encoded) = strip_scheme(header, b"basic ") else { return Verdict::Denied };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim_ascii()) else {
            return Verdict::Denied;
        };
        let Some(colon) = decoded.iter().position(|b| *b == b':') else { return Verdict::Denied };
        let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
        let fingerprint = self.keys.hash_one(&decoded);
        if self.cache.lock().get(&fingerprint).is_some_and(|at| at.elapsed() < CACHE_TTL) {
            return Verdict::Allowed;
        }
        // Waits (within the request's timeout) for one of the few bcrypt slots.
        let Ok(slot) = Arc::clone(&self.bcrypt_slots).acquire_owned().await else { return Verdict::Denied };
        let me = Arc::clone(self);
        let (user, pass) = (user.to_vec(), pass.to_vec());
        let ok = tokio::task::spawn_blocking(move || {
            let ok = me.verify_basic(&user, &pass);
            drop(slot);
            ok
        })
        .await
        .unwrap_or(false);
        if ok {
            let mut cache = self.cache.lock();
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
            cache.insert(fingerprint, Instant::now());
            Verdict::Allowed
        } else {
            Verdict::Denied
        }
    }

    /// Checks every user in constant time per user, and an unknown user against a dummy hash.
    fn verify_basic(&self, user: &[u8], pass: &[u8]) -> bool {
        let mut found: Option<&Password> = None;
        for (u, p) in &self.settings.basic {
            if bool::from(u.as_bytes().ct_eq(user)) {
                found = Some(p);
            }
        }
        match found {
            Some(Password::Plain(p)) => bool::from(p.as_slice().ct_eq(pass)),
            Some(Password::Bcrypt(hash)) => bcrypt::verify(pass, hash).unwrap_or(false),
            None => {
                if !self.dummy.is_empty() {
                    let _ = bcrypt::verify(pass, &self.dummy);
                }
                false
            }
        }
    }
}

/// The rest of `header` after a case-insensitive auth scheme and its space.
fn strip_scheme<'a>(header: &'a [u8], scheme: &[u8]) -> Option<&'a [u8]> {
    let head = header.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme).then(|| &header[scheme.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_case_insensitive() {
        assert_eq!(strip_scheme(b"Bearer abc", b"bearer "), Some(&b"abc"[..]));
        assert_eq!(strip_scheme(b"BASIC x", b"basic "), Some(&b"x"[..]));
        assert_eq!(strip_scheme(b"Digest x", b"basic "), None);
        assert_eq!(strip_scheme(b"Bas", b"basic "), None);
    }
}
