//! For any input (hostile label values, any value, any dialect, payload limit and queue size):
//! every payload stays within the limit, every line parses as exactly one StatsD line of the
//! backend's own names, and points in = points sent + points dropped (counted by reason).
#![cfg(feature = "statsd")]

use std::os::unix::net::UnixDatagram;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use codomyrmex_metrics::StatsdEvent;
use codomyrmex_metrics::{get_metrics, Backend, Buckets, Dialect, StatsdConfig};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Count(String, u32),
    Gauge(String, f64),
    Observe(String, f64),
}

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(
            prop_oneof![
                Just(" "),
                Just("\\"),
                Just("\n"),
                Just("\r"),
                Just("|"),
                Just(","),
                Just(":"),
                Just("#"),
                Just("@"),
                Just("="),
                Just("{"),
                Just("}"),
                Just("é"),
                Just("日本"),
                Just("a"),
                Just("."),
                Just("x:1|c\n"),
            ],
            0..12
        )
        .prop_map(|v| v.concat()),
        "[a-z]{200,400}",
    ]
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![-1e6..1e6f64, Just(-0.0), Just(f64::INFINITY), Just(1e300), Just(-3.5), Just(0.0)]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (hostile(), any::<u32>()).prop_map(|(l, n)| Op::Count(l, n)),
        (hostile(), value()).prop_map(|(l, v)| Op::Gauge(l, v)),
        (hostile(), value().prop_filter("finite", |v| v.is_finite())).prop_map(|(l, v)| Op::Observe(l, v)),
    ]
}

/// Checks one line: `NAME:VALUE|TYPE[|@RATE][|#k:v,…]`, NAME starting with the prefix.
fn parse_line(line: &str, dialect: Dialect) -> Result<(), String> {
    let (name, rest) = line.split_once(':').ok_or("no ':'")?;
    if !name.starts_with("p.") || name.contains(['|', '@', '#', ' ', '\r']) {
        return Err(format!("bad name {name:?}"));
    }
    if dialect != Dialect::Influx && name.contains([',', '=']) {
        return Err(format!("tag separators in {name:?}"));
    }
    let mut fields = rest.split('|');
    let v = fields.next().ok_or("no value")?;
    let v: f64 = v.parse().map_err(|_| format!("value {v:?}"))?;
    if !v.is_finite() {
        return Err("non-finite value".into());
    }
    let ty = fields.next().ok_or("no type")?;
    if !["c", "g", "ms", "h", "d"].contains(&ty) {
        return Err(format!("type {ty:?}"));
    }
    for f in fields {
        if let Some(rate) = f.strip_prefix('@') {
            rate.parse::<f64>().map_err(|_| "rate")?;
        } else if let Some(tags) = f.strip_prefix('#') {
            for t in tags.split(',') {
                let (k, v) = t.split_once(':').ok_or(format!("tag {t:?}"))?;
                if k.is_empty() || v.contains([':', '#', '@', '=']) {
                    return Err(format!("tag {t:?}"));
                }
            }
        } else {
            return Err(format!("field {f:?}"));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn payloads_fit_lines_parse_and_every_point_is_accounted_for(
        ops in proptest::collection::vec(op(), 1..60),
        dialect in prop_oneof![Just(Dialect::Etsy), Just(Dialect::DogStatsd), Just(Dialect::Influx)],
        limit in 64usize..600,
        send_queue in 1usize..8,
    ) {
        let dir = std::env::temp_dir().join(format!("codomyrmex-prop-{}-{}", std::process::id(), fastrand_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sink.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let reader = {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut got = Vec::new();
                let mut buf = vec![0u8; 70_000];
                loop {
                    match server.recv(&mut buf) {
                        Ok(n) => got.push(String::from_utf8(buf[..n].to_vec()).expect("UTF-8 payload")),
                        Err(_) if stop.load(Ordering::Acquire) => return got,
                        Err(_) => {}
                    }
                }
            })
        };
        let config = StatsdConfig::unixgram(&path)
            .dialect(dialect)
            .prefix("p").unwrap()
            .aggregate(false)
            .self_metrics(false)
            .max_payload(limit).unwrap()
            .send_queue_capacity(send_queue)
            .build()
            .unwrap();
        let metrics = get_metrics(Backend::Statsd(config)).unwrap();
        let c = metrics.counter_family("c", "C.", &["l"]).unwrap();
        let g = metrics.gauge_family("g", "G.", &["l"]).unwrap();
        let h = metrics.histogram_family("h_seconds", "H.", &["l"], Buckets::default()).unwrap();
        for op in &ops {
            match op {
                Op::Count(l, n) => c.with(&[l]).inc_by(u64::from(*n)),
                Op::Gauge(l, v) => g.with(&[l]).set(*v),
                Op::Observe(l, v) => h.with(&[l]).observe(*v),
            }
        }
        metrics.shutdown().unwrap();
        stop.store(true, Ordering::Release);
        let payloads = reader.join().unwrap();
        let _ = std::fs::remove_dir_all(&dir);

        let e = metrics.self_metrics();
        let sent = e.get(StatsdEvent::PointsSent);
        let dropped: u64 = [StatsdEvent::QueueFull, StatsdEvent::SendQueueFull, StatsdEvent::SendFailed,
            StatsdEvent::Oversize, StatsdEvent::NotRepresentable, StatsdEvent::Shutdown]
            .iter().map(|ev| e.get(*ev)).sum();
        // A gauge whose last line was lost is sent again at the next flush, counted apart.
        let resent = e.get(StatsdEvent::GaugeResent);
        prop_assert_eq!(sent + dropped, ops.len() as u64 + resent, "in + resent = sent + dropped");
        let mut points = 0u64;
        for p in &payloads {
            prop_assert!(p.len() <= limit, "payload of {} bytes over {}", p.len(), limit);
            let lines: Vec<&str> = p.split('\n').collect();
            for (i, line) in lines.iter().enumerate() {
                if let Err(why) = parse_line(line, dialect) {
                    return Err(TestCaseError::fail(format!("{why}: {line:?}")));
                }
                // `0|g` before a negative gauge is part of the same point.
                let reset = dialect != Dialect::DogStatsd && line.ends_with(":0|g")
                    && lines.get(i + 1).is_some_and(|n| n.contains(":-") && n.ends_with("|g")
                        && n.split(':').next() == line.split(':').next());
                if !reset {
                    points += 1;
                }
            }
        }
        prop_assert_eq!(points, sent, "lines received = points sent");
    }
}

fn fastrand_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}
