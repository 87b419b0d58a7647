//! OTLP export (feature `otlp`; HTTPS with feature `tls`), for the OpenTelemetry Collector and
//! every store that ingests OTLP (Grafana Mimir, VictoriaMetrics, Prometheus 3, most vendors).
//!
//! The exporter reads the registry on its own clock (every 60 s by default, as OpenTelemetry's
//! periodic reader) and once more at shutdown, from its own worker thread: the caller never
//! waits for the network. Counters are monotonic sums, gauges are gauges, histograms are
//! explicit-bucket histograms; cumulative by default, delta on request. Each point's start
//! time is its series' creation (cumulative) or the previous accepted export (delta). Labels
//! are attributes, after the same policy as every other backend; resource attributes pass the
//! sensitive-data guard too. Requests are protobuf over HTTP (`POST /v1/metrics`), gzip on
//! request, at most 4 MiB each (a larger export is split); a 429, 502, 503 or 504, or no
//! answer, is retried with exponential backoff and jitter (or after the receiver's
//! `Retry-After`) within the interval; a delta point the receiver never accepted is carried
//! into the next export, so deltas summed still equal the totals.

mod config;
mod encode;
mod events;
mod exponential;
pub(crate) mod from_env;
#[cfg(feature = "otlp-grpc")]
mod grpc;
mod state;
mod transport;

use std::sync::Arc;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;

pub use config::{OtlpBuilder, OtlpCompression, OtlpConfig, OtlpProtocol, Temporality};
pub use events::OtlpEvent;
pub use from_env::{
    ENV_OTEL_METRIC_EXPORT_INTERVAL, ENV_OTEL_RESOURCE_ATTRIBUTES, ENV_OTEL_SERVICE_NAME, ENV_OTLP_CERTIFICATE,
    ENV_OTLP_CLIENT_CERTIFICATE, ENV_OTLP_CLIENT_KEY, ENV_OTLP_COMPRESSION, ENV_OTLP_ENDPOINT, ENV_OTLP_HEADERS,
    ENV_OTLP_METRICS_ENDPOINT, ENV_OTLP_PIN_SHA256, ENV_OTLP_PROTOCOL, ENV_OTLP_TEMPORALITY_PREFERENCE,
    ENV_OTLP_TIMEOUT,
};
pub use transport::OtlpError;

use crate::backend::outbound::breaker::{Admit, Breaker, Transition};
use crate::backend::outbound::http::HttpClient;
use crate::backend::retry::{jitter, next_backoff};
use crate::export::{ExporterError, PushExporter};
use crate::policy::{SensitiveAction, REDACTED_VALUE};
use crate::registry::Registry;
use encode::{attribute, batches, Batch, Reader};
use prost::Message as _;
use state::{now_nanos, BirthObserver, Births, States};

/// How requests travel. One per exporter, made once: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Client {
    Http(HttpClient),
    #[cfg(feature = "otlp-grpc")]
    Grpc(grpc::GrpcClient),
}

/// Exports a registry over OTLP (what `Backend::Otlp` runs).
pub struct OtlpExporter {
    config: OtlpConfig,
    client: Client,
    /// The headers of every HTTP request, made once.
    headers: Vec<(hyper::header::HeaderName, hyper::header::HeaderValue)>,
    breaker: Breaker,
    births: Arc<Births>,
    states: States,
    /// Points per metric at the last export.
    sizes: std::collections::HashMap<String, usize>,
    /// When the exporter was made: the start of series older than it.
    created: u64,
    /// Made at the first export, once the registry's guard can read it.
    resource: Option<Resource>,
    scope: InstrumentationScope,
    /// Made on the worker thread at the first export.
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for OtlpExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpExporter").field("config", &self.config).finish_non_exhaustive()
    }
}

impl OtlpExporter {
    /// An exporter for `config`.
    ///
    /// # Errors
    /// The TLS settings cannot be used (unreadable CA file, no trusted roots).
    pub fn new(config: OtlpConfig) -> Result<Self, crate::ConfigError> {
        let client = match config.protocol {
            OtlpProtocol::HttpProtobuf => {
                #[cfg(feature = "tls")]
                let tls = if config.https { Some(config.tls_config()?) } else { None };
                Client::Http(HttpClient::new(
                    #[cfg(feature = "tls")]
                    tls,
                    config.proxy.build()?,
                ))
            }
            #[cfg(feature = "otlp-grpc")]
            OtlpProtocol::Grpc => Client::Grpc(grpc::GrpcClient::new(&config)?),
        };
        Ok(Self {
            client,
            headers: transport::headers(&config),
            breaker: Breaker::new(config.breaker),
            births: Arc::new(Births::default()),
            states: States::default(),
            sizes: std::collections::HashMap::new(),
            created: now_nanos(),
            resource: None,
            scope: InstrumentationScope {
                name: "codomyrmex-metrics".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                ..Default::default()
            },
            runtime: None,
            config,
        })
    }

    /// The resource: the SDK's own attributes, then the configured ones (from
    /// `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_SERVICE_NAME` and code), each value through the
    /// registry's sensitive-data guard; `service.name` is `unknown_service` when none is given,
    /// as the specification says.
    fn resource_for(&self, registry: &Registry) -> Resource {
        let guard = registry.policy().sensitive_guard();
        let mut attrs: Vec<(String, String)> = vec![
            ("telemetry.sdk.name".into(), "codomyrmex-metrics".into()),
            ("telemetry.sdk.language".into(), "rust".into()),
            ("telemetry.sdk.version".into(), env!("CARGO_PKG_VERSION").into()),
        ];
        for (k, v) in &self.config.resource {
            attrs.retain(|(a, _)| a != k);
            attrs.push((k.clone(), v.clone()));
        }
        if !attrs.iter().any(|(k, _)| k == "service.name") {
            attrs.push(("service.name".into(), "unknown_service".into()));
        }
        let attributes: Vec<KeyValue> = attrs
            .iter()
            .filter(|(k, _)| !guard.is_sensitive_key(&k.replace('.', "_")))
            .filter_map(|(k, v)| match guard.detect(v) {
                None => Some(attribute(k, v)),
                Some(_) => match guard.action {
                    SensitiveAction::Redact => Some(attribute(k, REDACTED_VALUE)),
                    SensitiveAction::Hash => Some(attribute(k, &guard.hashed(v))),
                    SensitiveAction::Drop => None,
                },
            })
            .collect();
        Resource { attributes, ..Default::default() }
    }

    /// The request bodies an export would send now (protobuf, before compression), without
    /// sending them: for a transport of your own, or to see what a receiver would get. It
    /// counts as an export for start times and for forgetting expired series, and commits no
    /// delta (the next export's deltas still start where the last accepted one ended).
    pub fn encode_export(&mut self, registry: &Registry) -> Vec<Vec<u8>> {
        let mut bodies = Vec::new();
        for mut batch in self.requests(registry) {
            bodies.push(batch.request.encode_to_vec());
            self.states.take_back(&mut batch.request, &batch.ids);
        }
        bodies
    }

    /// Reads the registry into the requests of one export.
    fn requests(&mut self, registry: &Registry) -> Vec<Batch> {
        if self.resource.is_none() {
            self.resource = Some(self.resource_for(registry));
        }
        let now = now_nanos();
        let reader = Reader {
            states: &mut self.states,
            births: self.births.take_all(),
            late: &self.births,
            sizes: &mut self.sizes,
            temporality: self.config.temporality,
            default_start: self.created,
            now,
        };
        let (parts, unused) = reader.read(registry);
        self.births.give_back(unused, now);
        let Some(resource) = &self.resource else { return Vec::new() };
        batches(resource, &self.scope, parts, self.config.max_request_bytes)
    }

    /// One export: reads the registry, then sends each request, retrying within `budget`
    /// (`last`: the export at shutdown, tried whatever the breaker's state).
    fn export(&mut self, registry: &Registry, budget: Duration, last: bool) -> Result<(), ExporterError> {
        let fail =
            |source: Box<dyn std::error::Error + Send + Sync>| ExporterError::Push { exporter: "otlp".into(), source };
        if self.runtime.is_none() {
            let rt =
                tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| fail(Box::new(e)))?;
            self.runtime = Some(rt);
        }
        let deadline = Instant::now() + budget;
        let requests = self.requests(registry);
        let mut first_error = None;
        for mut batch in requests {
            let result = self.deliver(registry, &mut batch, deadline, last);
            self.states.take_back(&mut batch.request, &batch.ids);
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), |e| Err(fail(Box::new(e))))
    }

    /// Sends one request until it is accepted, refused, or out of time; commits its deltas
    /// when accepted.
    fn deliver(
        &mut self,
        registry: &Registry,
        batch: &mut Batch,
        deadline: Instant,
        last: bool,
    ) -> Result<(), OtlpError> {
        let events = registry.self_metrics().register_own::<OtlpEvent>();
        // Over HTTP the body is encoded (and compressed) once for every attempt; tonic
        // encodes the message itself.
        let body = match &self.client {
            Client::Http(_) => transport::wire_body(&self.config, &batch.request.encode_to_vec()),
            #[cfg(feature = "otlp-grpc")]
            Client::Grpc(_) => bytes::Bytes::new(),
        };
        let mut delay = self.config.initial_backoff;
        let Some(rt) = &self.runtime else { return Ok(()) };
        loop {
            if !last && self.breaker.admit(Instant::now()) == Admit::Refuse {
                events.record(OtlpEvent::SkippedCircuitOpen);
                events.add(OtlpEvent::PointsDropped, batch.points as u64);
                return Err(OtlpError::CircuitOpen);
            }
            let result = match &mut self.client {
                Client::Http(client) => rt.block_on(transport::send(client, &self.config, &self.headers, body.clone())),
                #[cfg(feature = "otlp-grpc")]
                Client::Grpc(client) => rt.block_on(client.send(&batch.request)),
            };
            self.count_outcome(registry, &result);
            match result {
                Ok(accepted) => {
                    events.record(OtlpEvent::Sent);
                    events.add(OtlpEvent::PointsSent, batch.points as u64 - accepted.rejected.min(batch.points as u64));
                    if accepted.rejected > 0 {
                        events.add(OtlpEvent::PointsRejected, accepted.rejected);
                        // The receiver's message is not logged: it can quote attribute values.
                        tracing::warn!(rejected = accepted.rejected, "OTLP receiver rejected some data points");
                    }
                    for c in std::mem::take(&mut batch.commits) {
                        if let Some(s) = self.states.get_mut(c.id) {
                            s.accepted = Some((c.accepted, c.at));
                        }
                    }
                    return Ok(());
                }
                Err(e) => {
                    let wait = e.retry_after().map_or_else(|| jitter(delay), |d| d.min(self.config.max_backoff));
                    let retry =
                        e.is_retryable() && (last || !self.breaker.is_open()) && Instant::now() + wait < deadline;
                    if !retry {
                        events.record(OtlpEvent::Failed);
                        events.add(OtlpEvent::PointsDropped, batch.points as u64);
                        return Err(e);
                    }
                    events.record(OtlpEvent::Retried);
                    tracing::debug!(error = %e, retry_in = ?wait, "OTLP export failed; retrying");
                    std::thread::sleep(wait);
                    delay = next_backoff(delay, self.config.max_backoff);
                }
            }
        }
    }

    /// Feeds one request's outcome to the breaker, and counts what it changes.
    fn count_outcome(&self, registry: &Registry, result: &Result<transport::Accepted, OtlpError>) {
        let events = registry.self_metrics().register_own::<OtlpEvent>();
        if let Err(OtlpError::PinMismatch) = result {
            events.record(OtlpEvent::PinMismatch);
        }
        let outcome = result.as_ref().map(|_| ()).map_err(OtlpError::is_outage);
        self.breaker.observe(outcome, "otlp", |t| {
            events.record(match t {
                Transition::Opened => OtlpEvent::CircuitOpened,
                Transition::Closed => OtlpEvent::CircuitClosed,
            })
        });
    }
}

impl PushExporter for OtlpExporter {
    fn name(&self) -> &str {
        "otlp"
    }

    fn interval(&self) -> Duration {
        self.config.interval
    }

    fn push(&mut self, registry: &Registry) -> Result<(), ExporterError> {
        self.export(registry, self.config.interval, false)
    }

    fn shutdown(&mut self, registry: &Registry) -> Result<(), ExporterError> {
        self.export(registry, self.config.shutdown_budget, true)
    }

    fn observer(&self) -> Option<Arc<dyn crate::SeriesObserver>> {
        Some(Arc::new(BirthObserver(Arc::clone(&self.births))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;

    /// Attributes lent to one export come back for the next, and read the same.
    #[test]
    fn a_second_export_reuses_the_attributes_and_reads_the_same() {
        let r = Registry::default();
        let f = r.counter_family("jobs", "Jobs.", &["queue", "zone"]).unwrap();
        for i in 0..50 {
            f.with(&[&format!("q{i}"), "eu"]).inc_by(i);
        }
        r.gauge("level", "Level.").unwrap().set(3.0);
        let config = OtlpConfig::builder("http://127.0.0.1:9").unwrap().build().unwrap();
        let mut e = OtlpExporter::new(config).unwrap();
        let first = e.encode_export(&r);
        assert!(e.states.all_attributes_back(), "every series' attributes came back");
        let second = e.encode_export(&r);
        let decode = |b: &[Vec<u8>]| {
            b.iter().map(|b| ExportMetricsServiceRequest::decode(b.as_slice()).unwrap()).collect::<Vec<_>>()
        };
        let (mut a, mut b) = (decode(&first), decode(&second));
        // The times differ between exports; everything else is the same.
        for req in a.iter_mut().chain(b.iter_mut()) {
            for m in req.resource_metrics.iter_mut().flat_map(|r| &mut r.scope_metrics).flat_map(|s| &mut s.metrics) {
                if let Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(s)) = &mut m.data {
                    s.data_points.iter_mut().for_each(|p| p.time_unix_nano = 0);
                }
                if let Some(opentelemetry_proto::tonic::metrics::v1::metric::Data::Gauge(g)) = &mut m.data {
                    g.data_points.iter_mut().for_each(|p| p.time_unix_nano = 0);
                }
            }
        }
        assert_eq!(a, b);
    }
}
