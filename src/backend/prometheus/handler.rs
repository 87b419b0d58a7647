//! One scrape request → one response: route, access, auth, negotiation, render, headers.
//! Usable on its own, mounted inside a hyper or axum app ([`ScrapeHandler::handle`]).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::access::{Access, RateLimited};
use super::auth::{Auth, Verdict};
use super::config::{PrometheusConfig, Settings};
use super::events::ScrapeEvent;
use super::host::HostPolicy;
use super::render_cache::RenderCache;
use crate::export::Format;
use crate::registry::{Registry, SelfCounters};
use crate::{Buckets, Histogram};

/// Answers scrape requests for a registry, with every protection of the built-in server
/// except the connection-level ones (TLS, connection limit, header timeout), which belong to
/// whatever server it is mounted in. The Host header is checked only against
/// `PrometheusBuilder::allowed_hosts` when given: the app it is mounted in decides its address.
///
/// ```no_run
/// # async fn demo(registry: codomyrmex_metrics::Registry, req: hyper::Request<()>, peer: std::net::SocketAddr) {
/// use codomyrmex_metrics::{PrometheusConfig, ScrapeHandler};
/// let config = PrometheusConfig::builder().bearer_token("a-long-random-token-value").unwrap().build().unwrap();
/// let handler = ScrapeHandler::new(registry, &config);
/// let response = handler.handle(req, Some(peer.ip())).await; // from your own route
/// # let _ = response;
/// # }
/// ```
#[derive(Clone)]
pub struct ScrapeHandler {
    inner: Arc<Inner>,
}

struct Inner {
    settings: Arc<Settings>,
    hosts: HostPolicy,
    auth: Arc<Auth>,
    access: Access,
    cache: RenderCache,
    duration: Histogram,
    events: SelfCounters<ScrapeEvent>,
}

impl std::fmt::Debug for ScrapeHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeHandler").field("path", &self.inner.settings.path).finish_non_exhaustive()
    }
}

type Body = Full<Bytes>;

impl ScrapeHandler {
    /// A handler for `registry` with `config`'s path, auth, allowlist and limits.
    pub fn new(registry: Registry, config: &PrometheusConfig) -> Self {
        let settings = Arc::clone(&config.settings);
        let hosts = if settings.hosts_configured { settings.hosts.clone() } else { HostPolicy::Any };
        let cache = RenderCache::new(registry.clone());
        Self::with_cache(registry, settings, hosts, cache)
    }

    /// The handler of the built-in server: the Host policy follows the address it binds.
    pub(crate) fn from_settings(registry: Registry, settings: Arc<Settings>) -> Self {
        let cache = RenderCache::new(registry.clone());
        let hosts = settings.hosts.clone();
        Self::with_cache(registry, settings, hosts, cache)
    }

    fn with_cache(registry: Registry, settings: Arc<Settings>, hosts: HostPolicy, cache: RenderCache) -> Self {
        let duration = registry.internal_histogram(
            "codomyrmex_metrics_scrape_duration_seconds",
            "Time to answer a scrape, from request to response body.",
            Buckets::exponential(0.0005, 2.0, 14).unwrap_or_default(),
        );
        Self {
            inner: Arc::new(Inner {
                auth: Arc::new(Auth::new(Arc::clone(&settings))),
                access: Access::new(Arc::clone(&settings)),
                cache,
                hosts,
                settings,
                events: registry.self_metrics().register_own::<ScrapeEvent>(),
                duration,
            }),
        }
    }

    pub(crate) fn count(&self, event: ScrapeEvent) {
        self.inner.events.record(event);
    }

    /// Answers one request from `peer` (its address, for the allowlist and rate limits).
    ///
    /// The checks run in this order, each refusal counted in `scrapes_total{reason}`: the IP
    /// allowlist (403), the Host header (403, against DNS rebinding), the client's own request
    /// budget (429), path and method (404, 405), authentication (401; bcrypt runs at most two
    /// at a time), then the global budget (429), which only authenticated requests spend, and
    /// the in-flight limit (503; one client address holds at most a quarter of it). So neither
    /// anonymous clients nor one that piles up requests can take what the scraper needs.
    pub async fn handle<B>(&self, req: Request<B>, peer: Option<IpAddr>) -> Response<Body> {
        let arrived = Instant::now();
        let s = &self.inner.settings;
        let access = &self.inner.access;
        if !access.allowed(peer) {
            self.count(ScrapeEvent::Forbidden);
            return respond(StatusCode::FORBIDDEN, "forbidden\n");
        }
        if !self.inner.hosts.allows(req.headers().get(header::HOST).map(HeaderValue::as_bytes)) {
            self.count(ScrapeEvent::HostRefused);
            return respond(StatusCode::FORBIDDEN, "host not allowed\n");
        }
        if let Err(refusal) = access.client_budget(peer) {
            return self.refused(refusal);
        }
        let path = req.uri().path();
        if s.health_path.as_deref() == Some(path) {
            return respond(StatusCode::OK, "ok\n");
        }
        if path != s.path {
            self.count(ScrapeEvent::NotFound);
            return respond(StatusCode::NOT_FOUND, "not found\n");
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            self.count(ScrapeEvent::MethodNotAllowed);
            let mut r = respond(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let authorization = req.headers().get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
        if self.inner.auth.check(authorization).await == Verdict::Denied {
            self.count(ScrapeEvent::Unauthorized);
            let mut r = respond(StatusCode::UNAUTHORIZED, "unauthorized\n");
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(self.inner.auth.challenge()));
            return r;
        }
        if let Err(refusal) = access.global_budget() {
            return self.refused(refusal);
        }
        let Some(_slot) = self.inner.access.begin(peer) else {
            self.count(ScrapeEvent::Overloaded);
            let mut r = respond(StatusCode::SERVICE_UNAVAILABLE, "too many scrapes in flight\n");
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1u32));
            return r;
        };
        let format = negotiate(req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok()));
        let gzip = accepts_gzip(req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()));
        let Ok(body) = self.inner.cache.get(format, gzip, arrived).await else {
            self.count(ScrapeEvent::RenderFailed);
            tracing::error!("metrics render failed; answering 500 rather than an empty exposition");
            return respond(StatusCode::INTERNAL_SERVER_ERROR, "render failed\n");
        };
        let mut r =
            respond_bytes(StatusCode::OK, if req.method() == Method::HEAD { Bytes::new() } else { body.clone() });
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(format.content_type()));
        h.insert(header::VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
        if gzip {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if req.method() == Method::HEAD {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        }
        self.count(ScrapeEvent::Served);
        self.inner.duration.observe(arrived.elapsed().as_secs_f64());
        r
    }

    fn refused(&self, RateLimited(secs): RateLimited) -> Response<Body> {
        self.count(ScrapeEvent::RateLimited);
        let mut r = respond(StatusCode::TOO_MANY_REQUESTS, "too many requests\n");
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        r
    }

    pub(crate) fn timeout_response(&self) -> Response<Body> {
        self.count(ScrapeEvent::Timeout);
        respond(StatusCode::SERVICE_UNAVAILABLE, "request timed out\n")
    }
}

fn respond(status: StatusCode, text: &'static str) -> Response<Body> {
    let mut r = respond_bytes(status, Bytes::from_static(text.as_bytes()));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

/// Every response: `nosniff` and `no-store`.
fn respond_bytes(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// OpenMetrics 1.0 when the client prefers it (as Prometheus 2.42 does), else text 0.0.4.
pub(crate) fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else { return Format::PrometheusText };
    let (mut om, mut text) = (0.0f32, 0.0f32);
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let (mut q, mut version) = (1.0f32, None);
        for p in parts {
            if let Some(v) = p.strip_prefix("q=") {
                q = v.parse().unwrap_or(0.0);
            } else if let Some(v) = p.strip_prefix("version=") {
                version = Some(v.to_owned());
            }
        }
        match media.as_str() {
            "application/openmetrics-text" if version.as_deref().is_none_or(|v| v == "1.0.0") => om = om.max(q),
            "text/plain" | "text/*" | "*/*" => text = text.max(q),
            _ => {}
        }
    }
    if om > 0.0 && om > text {
        Format::OpenMetrics
    } else {
        Format::PrometheusText
    }
}

fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    accept_encoding.is_some_and(|v| {
        v.split(',').any(|e| {
            let mut parts = e.split(';').map(str::trim);
            parts.next().is_some_and(|n| n.eq_ignore_ascii_case("gzip"))
                && parts.all(|p| p.strip_prefix("q=").is_none_or(|q| q.parse::<f32>().unwrap_or(0.0) > 0.0))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_2_42_gets_openmetrics() {
        let accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(Some(accept)), Format::OpenMetrics);
    }

    #[test]
    fn text_is_the_default() {
        assert_eq!(negotiate(None), Format::PrometheusText);
        assert_eq!(negotiate(Some("*/*")), Format::PrometheusText);
        assert_eq!(negotiate(Some("application/openmetrics-text;q=0.2,text/plain")), Format::PrometheusText);
        assert_eq!(negotiate(Some("application/openmetrics-text;version=0.0.1")), Format::PrometheusText);
    }

    #[test]
    fn a_failed_render_is_a_500_never_an_empty_200() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let registry = Registry::default();
        let settings = Arc::clone(&super::super::PrometheusConfig::builder().build().unwrap().settings);
        let fail = Arc::new(AtomicBool::new(true));
        let render: super::super::render_cache::RenderFn = {
            let (fail, registry) = (Arc::clone(&fail), registry.clone());
            Arc::new(move |format, out: &mut String| {
                assert!(!fail.load(Ordering::SeqCst), "a render bug");
                registry.render_into(format, out);
            })
        };
        let cache = RenderCache::with_render(registry.clone(), render);
        let handler = ScrapeHandler::with_cache(registry.clone(), settings, HostPolicy::Any, cache);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let get = || Request::get("/metrics").body(()).unwrap();
        let failed = rt.block_on(handler.handle(get(), None));
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(registry.self_metrics().get(ScrapeEvent::RenderFailed), 1);
        fail.store(false, Ordering::SeqCst);
        let served = rt.block_on(handler.handle(get(), None));
        assert_eq!(served.status(), StatusCode::OK, "nothing of the failed render was cached");
    }

    #[test]
    fn one_client_cannot_hold_every_request_slot() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let registry = Registry::default();
        let settings = Arc::clone(&super::super::PrometheusConfig::builder().build().unwrap().settings);
        let gate = Arc::new(AtomicBool::new(false));
        let render: super::super::render_cache::RenderFn = {
            let (gate, registry) = (Arc::clone(&gate), registry.clone());
            Arc::new(move |format, out: &mut String| {
                while !gate.load(Ordering::SeqCst) {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                registry.render_into(format, out);
            })
        };
        let cache = RenderCache::with_render(registry.clone(), render);
        let handler = ScrapeHandler::with_cache(registry.clone(), settings, HostPolicy::Any, cache);
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let get = || Request::get("/metrics").body(()).unwrap();
        let (abuser, scraper): (IpAddr, IpAddr) = ("127.0.0.40".parse().unwrap(), "127.0.0.1".parse().unwrap());
        // Eight requests from one address while the render is held: as many as the default
        // in-flight limit.
        let held: Vec<_> = (0..8)
            .map(|_| {
                let h = handler.clone();
                rt.spawn(async move { h.handle(get(), Some(abuser)).await.status() })
            })
            .collect();
        while registry.self_metrics().get(ScrapeEvent::Rendered) == 0 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        let h = handler.clone();
        let scrape = rt.spawn(async move { h.handle(get(), Some(scraper)).await.status() });
        std::thread::sleep(std::time::Duration::from_millis(100));
        gate.store(true, Ordering::SeqCst);
        assert_eq!(rt.block_on(scrape).unwrap(), StatusCode::OK, "another client still gets a slot");
        let statuses: Vec<_> = held.into_iter().map(|h| rt.block_on(h).unwrap()).collect();
        let refused = statuses.iter().filter(|s| **s == StatusCode::SERVICE_UNAVAILABLE).count();
        assert_eq!(refused, 6, "the abuser held a quarter of the slots (2 of 8), the rest were refused");
    }

    #[test]
    fn gzip_needs_a_positive_q() {
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("br, GZIP;q=0.5")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(None));
    }
}
