//! OTLP against the OpenTelemetry SDK (opentelemetry_sdk 0.33, and the conversion to protobuf
//! messages its OTLP exporter runs, opentelemetry-proto's `From<&ResourceMetrics>`), every
//! implementation in this process: recording a counter resolved and with three attributes over
//! 500 attribute sets, and the time and bytes to encode an export of 100,000 series; and the
//! cost of observing a base-2 exponential histogram against a classic one. Issue 13's targets:
//! recording with attributes at most 0.5x theirs; encoding at most 0.8x their time; the
//! exponential histogram's observe at most 1.3x the classic one's.
//! Run: `cargo bench -p codomyrmex-metrics-checks --bench otlp` (`BENCH_QUICK=1` for a short run).

mod common;

use std::hint::black_box;
use std::time::Instant;

use codomyrmex_metrics::{OtlpConfig, OtlpExporter, Policy, Registry};
use common::{label_sets, median_ns, Table};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{Instrument, ManualReader, SdkMeterProvider, Stream};
use prost::Message;

const SAMPLES: usize = 11;
const SERIES: usize = 100_000;

fn iters() -> u64 {
    if common::quick() {
        400_000
    } else {
        4_000_000
    }
}

/// A meter provider read by hand, as the periodic reader of the OTLP exporter reads it, with
/// room for `series` attribute sets per instrument (the SDK's default limit is 2,000).
fn sdk(series: usize) -> (SdkMeterProvider, std::sync::Arc<ManualReader>) {
    let reader = std::sync::Arc::new(ManualReader::builder().build());
    let limit = move |_: &Instrument| Stream::builder().with_cardinality_limit(series + 1).build().ok();
    let provider = SdkMeterProvider::builder().with_reader(SharedReader(reader.clone())).with_view(limit).build();
    (provider, reader)
}

/// The reader, shared with the bench so that it can collect.
#[derive(Debug, Clone)]
struct SharedReader(std::sync::Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: std::sync::Weak<opentelemetry_sdk::metrics::Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: std::time::Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: opentelemetry_sdk::metrics::InstrumentKind) -> opentelemetry_sdk::metrics::Temporality {
        self.0.temporality(kind)
    }
}

fn recording() {
    let (sets, _) = label_sets(20);
    let n = sets.len();
    let mut t = Table::new("counter add, resolved (no attributes to look up)", "ns/op");
    let r = Registry::default();
    let c = r.counter("requests", "h").unwrap();
    t.add("codomyrmex (resolved handle)", median_ns(SAMPLES, iters(), |k| (0..k).for_each(|_| c.inc())));
    let (provider, _reader) = sdk(2_000);
    let counter = provider.meter("bench").u64_counter("requests").build();
    t.add(
        "opentelemetry_sdk (add, no attributes)",
        median_ns(SAMPLES, iters(), |k| (0..k).for_each(|_| counter.add(1, &[]))),
    );
    let attrs = [KeyValue::new("method", "GET"), KeyValue::new("route", "/a"), KeyValue::new("status", "200")];
    let bound = counter.bind(&attrs);
    t.add(
        "opentelemetry_sdk (bound, 3 attributes)",
        median_ns(SAMPLES, iters(), |k| (0..k).for_each(|_| bound.add(1))),
    );
    t.print("codomyrmex (resolved handle)", Some(("opentelemetry_sdk (add, no attributes)", 1.0)));

    let mut t = Table::new(&format!("counter add with 3 attributes looked up per call, {n} sets"), "ns/op");
    let f = r.counter_family("requests_by", "h", &["method", "route", "status"]).unwrap();
    t.add(
        "codomyrmex",
        median_ns(SAMPLES, iters(), |k| {
            for i in 0..k as usize {
                f.inc(black_box(&sets[i % n]));
            }
        }),
    );
    let kvs: Vec<[KeyValue; 3]> = sets
        .iter()
        .map(|s| [KeyValue::new("method", s[0]), KeyValue::new("route", s[1]), KeyValue::new("status", s[2])])
        .collect();
    t.add(
        "opentelemetry_sdk",
        median_ns(SAMPLES, iters(), |k| {
            for i in 0..k as usize {
                counter.add(1, black_box(&kvs[i % n]));
            }
        }),
    );
    t.print("codomyrmex", Some(("opentelemetry_sdk", 0.5)));
}

/// Observing a histogram: the base-2 exponential layout against the classic one (Prometheus'
/// default bounds), one thread, the same values (latencies from 0.1 ms to 10 s, and zeros).
/// Issue 13's target: at most 1.3x the classic histogram's cost.
fn exponential_observe() {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let values: Vec<f64> = (0..4096)
        .map(|k| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if k % 64 == 0 {
                0.0
            } else {
                1e-4 * 10f64.powf((x % 10_000) as f64 / 2_500.0)
            }
        })
        .collect();
    let r = Registry::default();
    let classic = r.histogram("classic_seconds", "h", codomyrmex_metrics::Buckets::default()).unwrap();
    let exp = r.histogram("exp_seconds", "h", codomyrmex_metrics::Buckets::base2_exponential()).unwrap();
    let run = |h: &codomyrmex_metrics::Histogram| {
        median_ns(SAMPLES, iters(), |k| {
            for i in 0..k as usize {
                h.observe(black_box(values[i & 4095]));
            }
        })
    };
    let mut t = Table::new("histogram observe, 1 thread (latencies 0.1 ms to 10 s)", "ns/op");
    t.add("codomyrmex, classic buckets", run(&classic));
    t.add("codomyrmex, base-2 exponential", run(&exp));
    t.print("codomyrmex, base-2 exponential", Some(("codomyrmex, classic buckets", 1.3)));
}

/// Median milliseconds of `a` and of `b`, their samples taken in turns (so that the heap's
/// state, which the other leaves behind, weighs on both alike), and what each returned last.
fn median_ms_pair<A, B>(mut a: impl FnMut() -> A, mut b: impl FnMut() -> B) -> ((f64, A), (f64, B)) {
    let (mut last_a, mut last_b) = (a(), b());
    let samples = if common::quick() { 3 } else { SAMPLES };
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    for _ in 0..samples {
        let started = Instant::now();
        last_a = a();
        ta.push(started.elapsed().as_secs_f64() * 1e3);
        let started = Instant::now();
        last_b = b();
        tb.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let median = |mut t: Vec<f64>| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    ((median(ta), last_a), (median(tb), last_b))
}

fn encoding() {
    let values: Vec<String> = (0..SERIES).map(|i| format!("/api/v1/items/{i:06}")).collect();
    let policy = Policy::default().with_max_series_per_metric(SERIES + 1).with_max_series_total(SERIES + 10);
    let r = Registry::builder().policy(policy).build();
    let f = r.counter_family("requests", "Requests.", &["route"]).unwrap();
    for (i, v) in values.iter().enumerate() {
        f.with(&[v]).inc_by(i as u64);
    }
    assert_eq!(r.series_count(), SERIES, "every series is kept");
    let config = OtlpConfig::builder("http://127.0.0.1:9").unwrap().max_request_bytes(64 << 20).build().unwrap();
    let mut exporter = OtlpExporter::new(config).unwrap();

    let (provider, reader) = sdk(SERIES);
    let counter = provider.meter("bench").u64_counter("requests").with_description("Requests.").build();
    for (i, v) in values.iter().enumerate() {
        counter.add(i as u64, &[KeyValue::new("route", v.clone())]);
    }
    let ((ours, bodies), (theirs, body)) = median_ms_pair(
        || exporter.encode_export(&r),
        || {
            let mut rm = ResourceMetrics::default();
            reader.collect(&mut rm).unwrap();
            ExportMetricsServiceRequest::from(&rm).encode_to_vec()
        },
    );
    let our_bytes: usize = bodies.iter().map(Vec::len).sum();
    let points = ExportMetricsServiceRequest::decode(body.as_slice()).unwrap().resource_metrics[0].scope_metrics[0]
        .metrics[0]
        .data
        .as_ref()
        .map(|d| match d {
            opentelemetry_proto::tonic::metrics::v1::metric::Data::Sum(s) => s.data_points.len(),
            _ => 0,
        })
        .unwrap_or(0);
    assert_eq!(points, SERIES, "the SDK kept every series");

    let mut t = Table::new(&format!("encode an export of {SERIES} counter series (protobuf, uncompressed)"), "ms");
    t.add("codomyrmex", ours);
    t.add("opentelemetry_sdk (collect + opentelemetry-proto conversion + encode)", theirs);
    t.print("codomyrmex", Some(("opentelemetry_sdk (collect + opentelemetry-proto conversion + encode)", 0.8)));
    let mut t = Table::new(&format!("bytes of that export ({SERIES} series)"), "bytes");
    t.add("codomyrmex", our_bytes as f64);
    t.add("opentelemetry_sdk", body.len() as f64);
    t.print("codomyrmex", None);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // As in `lookups`: a service always has a second thread, and glibc's malloc changes then.
    std::thread::spawn(|| {}).join().expect("a thread");
    println!("## OTLP (median of {SAMPLES} samples)");
    recording();
    exponential_observe();
    encoding();
}
