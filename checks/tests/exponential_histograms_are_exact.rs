//! Base-2 exponential histograms: exported over OTLP to the real receiver with bucket counts
//! equal to exact counts computed from the same observations at the scale it arrived with
//! (cumulative, and deltas that sum to them); chosen per name prefix for the `metrics` facade;
//! rendered by the text formats in a form `promtool check metrics` and the Python parser accept.

mod support;

use codomyrmex_metrics::{Buckets, Format, Registry, RegistryBuilder};

/// Observations over twelve orders of magnitude, both signs, and zeros.
fn observations() -> Vec<f64> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..5_000)
        .map(|k| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let magnitude = 10f64.powi((x % 12) as i32 - 6) * (1.0 + (x >> 40) as f64 / (1u64 << 24) as f64);
            match k % 10 {
                0 => 0.0,
                1 | 2 => -magnitude,
                _ => magnitude,
            }
        })
        .collect()
}

#[test]
fn the_text_formats_render_it_as_promtool_and_the_python_parser_accept() {
    let r = Registry::default();
    let h = r.histogram("payload_bytes", "Payload sizes.", Buckets::base2_exponential()).unwrap();
    for v in observations() {
        h.observe(v);
    }
    let text = r.render(Format::PrometheusText);
    let buckets: Vec<&str> = text.lines().filter(|l| l.starts_with("payload_bytes_bucket")).collect();
    assert!(buckets.len() > 20 && buckets.len() <= 2 * 160 + 2, "{}", buckets.len());
    assert!(text.contains("payload_bytes_bucket{le=\"0.0\"}"), "the zero bucket is le=\"0.0\"");
    assert!(text.contains("payload_bytes_count 5000\n"), "{text}");
    if let Some(result) = support::promtool(&text) {
        result.unwrap();
    }
    for (format, om) in [(Format::PrometheusText, false), (Format::OpenMetrics, true)] {
        if let Some(result) = support::strict_parse(&r.render(format), om) {
            result.unwrap();
        }
    }
}

#[test]
fn the_facade_uses_it_for_the_names_configured() {
    let r = RegistryBuilder::default().buckets_for_prefix("rpc_", Buckets::base2_exponential()).build();
    let recorder = codomyrmex_metrics::FacadeRecorder::new(r.clone());
    metrics::with_local_recorder(&recorder, || {
        metrics::histogram!("rpc_seconds").record(0.25);
        metrics::histogram!("db_seconds").record(0.25);
    });
    let text = r.render(Format::PrometheusText);
    // 0.25 = 2^-2 closes a base-2 bucket whose bound is exact; the classic layout has 0.25 too.
    assert!(text.contains("rpc_seconds_bucket{le=\"0.0\"} 0"), "{text}");
    assert!(!text.contains("db_seconds_bucket{le=\"0.0\"}"), "{text}");
}

#[cfg(feature = "otlp")]
mod otlp {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use serde_json::Value;

    use super::*;
    use codomyrmex_metrics::{get_metrics, Backend, OtlpConfig, Temporality};
    use support::otlp::Receiver;

    /// The bucket of `v > 0` at `scale` by the definition: `(2^(i/2^s), 2^((i+1)/2^s)]`.
    fn index(v: f64, scale: i32) -> i32 {
        let bound = |i: i32| (f64::from(i) * (-f64::from(scale)).exp2()).exp2();
        let mut i = (v.log2() * f64::from(scale).exp2()).floor() as i32;
        while v <= bound(i) {
            i -= 1;
        }
        while v > bound(i + 1) {
            i += 1;
        }
        i
    }

    /// Exact counts per bucket index for the values of one sign (by absolute value).
    fn exact(values: &[f64], scale: i32, positive: bool) -> BTreeMap<i32, u64> {
        let mut m = BTreeMap::new();
        for v in values.iter().filter(|v| if positive { **v > 0.0 } else { **v < 0.0 }) {
            *m.entry(index(v.abs(), scale)).or_insert(0) += 1;
        }
        m
    }

    /// A received side (`{offset, bucket_counts}`) as index -> count, zeros left out.
    fn received(side: &Value) -> BTreeMap<i32, u64> {
        let offset = side["offset"].as_i64().unwrap_or(0) as i32;
        side["bucket_counts"]
            .as_array()
            .map(|c| {
                c.iter()
                    .enumerate()
                    .map(|(k, n)| (offset + k as i32, n.as_u64().unwrap()))
                    .filter(|(_, n)| *n > 0)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn check(point: &Value, values: &[f64]) {
        assert_eq!(point["type"], "exponential_histogram");
        let scale = point["scale"].as_i64().unwrap() as i32;
        assert!(scale <= 20, "{scale}");
        assert_eq!(received(&point["positive"]), exact(values, scale, true), "positive buckets at scale {scale}");
        assert_eq!(received(&point["negative"]), exact(values, scale, false), "negative buckets at scale {scale}");
        assert_eq!(point["zero_count"].as_u64().unwrap(), values.iter().filter(|v| **v == 0.0).count() as u64);
        assert_eq!(point["count"].as_u64().unwrap(), values.len() as u64);
    }

    #[test]
    fn cumulative_bucket_counts_equal_exact_counts() {
        let Some(rx) = Receiver::start(&[]) else { return };
        let m = get_metrics(Backend::Otlp(
            OtlpConfig::builder(&rx.url()).unwrap().interval(Duration::from_secs(3600)).build().unwrap(),
        ))
        .unwrap();
        let h = m.registry().histogram("payload_bytes", "Payload sizes.", Buckets::base2_exponential()).unwrap();
        let values = observations();
        for v in &values {
            h.observe(*v);
        }
        m.shutdown().unwrap();
        let points = rx.points();
        let point = points.iter().find(|p| p["name"] == "payload_bytes").unwrap();
        check(point, &values);
        assert_eq!(point["min"].as_f64(), values.iter().copied().reduce(f64::min));
        assert_eq!(point["max"].as_f64(), values.iter().copied().reduce(f64::max));
    }

    #[test]
    fn deltas_sum_to_exact_counts_across_scale_changes() {
        let Some(rx) = Receiver::start(&[]) else { return };
        let m = get_metrics(Backend::Otlp(
            OtlpConfig::builder(&rx.url())
                .unwrap()
                .interval(Duration::from_millis(100))
                .temporality(Temporality::Delta)
                .build()
                .unwrap(),
        ))
        .unwrap();
        let h = m.registry().histogram("latency", "Latency.", Buckets::base2_exponential()).unwrap();
        let values = observations();
        // Narrow values first (a fine scale), then wide ones (the scale shrinks between exports).
        let (narrow, wide): (Vec<f64>, Vec<f64>) = values.iter().partition(|v| (0.5..2.0).contains(&v.abs()));
        for chunk in narrow.chunks(200).chain(wide.chunks(500)) {
            for v in chunk {
                h.observe(*v);
            }
            std::thread::sleep(Duration::from_millis(60));
        }
        m.shutdown().unwrap();
        let points: Vec<Value> = rx.points().into_iter().filter(|p| p["name"] == "latency").collect();
        assert!(points.len() >= 3, "several deltas: {}", points.len());
        let last_scale = points.last().unwrap()["scale"].as_i64().unwrap() as i32;
        assert!(points.first().unwrap()["scale"].as_i64().unwrap() as i32 > last_scale, "the scale shrank");
        // Each delta brought to the last scale and summed equals the exact counts of everything.
        let mut pos = BTreeMap::new();
        let mut neg = BTreeMap::new();
        let mut count = 0;
        for p in &points {
            let change = p["scale"].as_i64().unwrap() as i32 - last_scale;
            for (i, n) in received(&p["positive"]) {
                *pos.entry(i >> change).or_insert(0) += n;
            }
            for (i, n) in received(&p["negative"]) {
                *neg.entry(i >> change).or_insert(0) += n;
            }
            count += p["count"].as_u64().unwrap();
        }
        let all: Vec<f64> = narrow.iter().chain(&wide).copied().collect();
        assert_eq!(pos, exact(&all, last_scale, true));
        assert_eq!(neg, exact(&all, last_scale, false));
        assert_eq!(count, all.len() as u64);
    }
}
