//! Hot-path scenarios of DESIGN.md, every peer in one run:
//! resolved counter inc (1 and 2 threads), counter with 3 string labels looked up per call
//! (500 series, typed API and `metrics` macros), a new label set past the series limit,
//! histogram observe (1 and 2 threads).
//! Run: `cargo bench -p codomyrmex-metrics-checks --bench hot_path` (`BENCH_QUICK=1` for a short run).

mod common;

use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use codomyrmex_metrics::{Buckets, Registry};
use common::{label_sets, median_ns, median_ns_threads, Table, Three, ThreeSet};
use hashbrown::HashTable;
use paracord::ParaCord;

fn iters() -> u64 {
    if common::quick() {
        1_000_000
    } else {
        10_000_000
    }
}
const SAMPLES: usize = 15;

fn counter_resolved() {
    let mut t = Table::new("counter inc, resolved handle (1 thread)", "ns/op");
    let raw = Box::new(AtomicU64::new(0));
    t.add(
        "raw AtomicU64::fetch_add",
        median_ns(SAMPLES, iters(), |n| {
            (0..n).for_each(|_| {
                black_box(&*raw).fetch_add(1, Ordering::Relaxed);
            })
        }),
    );
    let r = Registry::default();
    let c = r.counter("c", "h").unwrap();
    t.add("codomyrmex", median_ns(SAMPLES, iters(), |n| (0..n).for_each(|_| black_box(&c).inc())));
    let sc = r.register_counter(codomyrmex_metrics::MetricOpts::new("sc", "h").sharded()).unwrap().with(&[]);
    t.add("codomyrmex (sharded)", median_ns(SAMPLES, iters(), |n| (0..n).for_each(|_| black_box(&sc).inc())));
    let p = prometheus::IntCounter::new("c", "h").unwrap();
    t.add("prometheus", median_ns(SAMPLES, iters(), |n| (0..n).for_each(|_| black_box(&p).inc())));
    let pc = prometheus_client::metrics::counter::Counter::<u64>::default();
    t.add(
        "prometheus-client",
        median_ns(SAMPLES, iters(), |n| {
            (0..n).for_each(|_| {
                black_box(&pc).inc();
            })
        }),
    );
    let mc = measured::Counter::new();
    t.add("measured", median_ns(SAMPLES, iters(), |n| (0..n).for_each(|_| black_box(&mc).inc())));
    let rec = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let fc = metrics::with_local_recorder(&rec, || metrics::counter!("c"));
    t.add(
        "metrics+exporter-prometheus",
        median_ns(SAMPLES, iters(), |n| (0..n).for_each(|_| black_box(&fc).increment(1))),
    );
    t.print("codomyrmex", Some(("raw AtomicU64::fetch_add", 1.05)));

    let mut t = Table::new("counter inc, resolved handle, 2 threads on one counter", "ns/op per thread");
    let raw_add = |n: u64| {
        (0..n).for_each(|_| {
            black_box(&*raw).fetch_add(1, Ordering::Relaxed);
        })
    };
    t.add("raw AtomicU64, 1 thread (uncontended)", median_ns_threads(SAMPLES, iters() / 4, 1, raw_add));
    t.add(
        "raw AtomicU64::fetch_add",
        median_ns_threads(SAMPLES, iters() / 4, 2, |n| {
            (0..n).for_each(|_| {
                black_box(&*raw).fetch_add(1, Ordering::Relaxed);
            })
        }),
    );
    t.add("codomyrmex", median_ns_threads(SAMPLES, iters() / 4, 2, |n| (0..n).for_each(|_| black_box(&c).inc())));
    t.add(
        "codomyrmex (sharded)",
        median_ns_threads(SAMPLES, iters() / 4, 2, |n| (0..n).for_each(|_| black_box(&sc).inc())),
    );
    t.add(
        "prometheus-client",
        median_ns_threads(SAMPLES, iters() / 4, 2, |n| {
            (0..n).for_each(|_| {
                black_box(&pc).inc();
            })
        }),
    );
    // Scaling: with two threads on one sharded counter, each thread pays about what one
    // thread alone pays on an uncontended atomic.
    t.print("codomyrmex (sharded)", Some(("raw AtomicU64, 1 thread (uncontended)", 1.3)));
}

fn counter_labeled() {
    let sets = label_sets(20).0;
    let n_sets = sets.len();
    let mut t = Table::new("counter inc with 3 string labels looked up per call, 500 series", "ns/op");

    let state = foldhash::fast::FixedState::with_seed(1);
    let hash = |k: &[&str; 3]| {
        let mut h = state.build_hasher();
        for p in k {
            h.write(p.as_bytes());
            h.write_u8(0xff);
        }
        h.finish()
    };
    let mut table: HashTable<([Box<str>; 3], AtomicU64)> = HashTable::new();
    for s in &sets {
        let key = [Box::from(s[0]), Box::from(s[1]), Box::from(s[2])];
        table.insert_unique(hash(s), (key, AtomicU64::new(0)), |e| hash(&[&*e.0[0], &*e.0[1], &*e.0[2]]));
    }
    t.add(
        "plain hash map (floor)",
        median_ns(SAMPLES, iters() / 4, |n| {
            for i in 0..n as usize {
                let s = black_box(&sets[i % n_sets]);
                if let Some(e) = table.find(hash(s), |e| *e.0[0] == *s[0] && *e.0[1] == *s[1] && *e.0[2] == *s[2]) {
                    e.1.fetch_add(1, Ordering::Relaxed);
                }
            }
        }),
    );

    let r = Registry::default();
    let f = r.counter_family("requests", "h", &["method", "route", "status"]).unwrap();
    t.add(
        "codomyrmex",
        median_ns(SAMPLES, iters() / 4, |n| {
            for i in 0..n as usize {
                f.inc(black_box(&sets[i % n_sets]));
            }
        }),
    );

    let mv = measured::CounterVec::with_label_set(ThreeSet {
        method: ParaCord::default(),
        route: ParaCord::default(),
        status: ParaCord::default(),
    });
    t.add(
        "measured",
        median_ns(SAMPLES, iters() / 4, |n| {
            for i in 0..n as usize {
                let s = black_box(&sets[i % n_sets]);
                mv.inc(Three { method: s[0], route: s[1], status: s[2] });
            }
        }),
    );

    let pv =
        prometheus::IntCounterVec::new(prometheus::Opts::new("requests", "h"), &["method", "route", "status"]).unwrap();
    t.add(
        "prometheus",
        median_ns(SAMPLES, iters() / 4, |n| {
            for i in 0..n as usize {
                pv.with_label_values(black_box(&sets[i % n_sets])).inc();
            }
        }),
    );

    type PcLabels = [(&'static str, &'static str); 3];
    let pcf =
        prometheus_client::metrics::family::Family::<PcLabels, prometheus_client::metrics::counter::Counter>::default();
    t.add(
        "prometheus-client",
        median_ns(SAMPLES, iters() / 4, |n| {
            for i in 0..n as usize {
                let s = black_box(&sets[i % n_sets]);
                pcf.get_or_create(&[("method", s[0]), ("route", s[1]), ("status", s[2])]).inc();
            }
        }),
    );
    t.print("codomyrmex", Some(("measured", 0.8)));

    let mut t = Table::new("the same through the `metrics` facade macros", "ns/op");
    let m = codomyrmex_metrics::get_metrics(codomyrmex_metrics::Backend::InMemory).unwrap();
    let ours = m.recorder();
    let reference = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    for (name, rec) in [("codomyrmex", &ours as &dyn metrics::Recorder), ("metrics+exporter-prometheus", &reference)] {
        let ns = metrics::with_local_recorder(rec, || {
            median_ns(SAMPLES, iters() / 20, |n| {
                for i in 0..n as usize {
                    let s = black_box(&sets[i % n_sets]);
                    metrics::counter!("requests", "method" => s[0], "route" => s[1], "status" => s[2]).increment(1);
                }
            })
        });
        t.add(name, ns);
    }
    t.print("codomyrmex", Some(("metrics+exporter-prometheus", 0.5)));
}

fn histogram_observe() {
    let values: Vec<f64> = (0..1024).map(|i| f64::from(i) * 0.0123 % 12.0).collect();
    let nv = values.len();
    for threads in [1usize, 2] {
        let mut t =
            Table::new(&format!("histogram observe, resolved handle ({threads} thread(s))"), "ns/op per thread");
        let bounds = Buckets::DEFAULT_BOUNDS;
        let counts: Vec<AtomicU64> = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        let sum = AtomicU64::new(0);
        let run = |f: &(dyn Fn(f64) + Sync)| {
            median_ns_threads(SAMPLES, iters() / 4, threads, |n| {
                for i in 0..n as usize {
                    f(black_box(values[i % nv]));
                }
            })
        };
        t.add(
            "raw buckets + atomics (floor)",
            run(&|v| {
                let i = bounds.iter().position(|b| v <= *b).unwrap_or(bounds.len());
                counts[i].fetch_add(1, Ordering::Relaxed);
                let mut cur = sum.load(Ordering::Relaxed);
                while let Err(seen) = sum.compare_exchange_weak(
                    cur,
                    (f64::from_bits(cur) + v).to_bits(),
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    cur = seen;
                }
            }),
        );
        let r = Registry::default();
        let h = r.histogram("h", "h", Buckets::default()).unwrap();
        t.add("codomyrmex", run(&|v| h.observe(v)));
        let pch = prometheus_client::metrics::histogram::Histogram::new(Buckets::DEFAULT_BOUNDS);
        t.add("prometheus-client", run(&|v| pch.observe(v)));
        let ph = prometheus::Histogram::with_opts(prometheus::HistogramOpts::new("h", "h")).unwrap();
        t.add("prometheus", run(&|v| ph.observe(v)));
        let mh = measured::Histogram::<11>::with_metadata(measured::metric::histogram::Thresholds::with_buckets(
            Buckets::DEFAULT_BOUNDS,
        ));
        t.add("measured", run(&|v| mh.observe(v)));
        t.print("codomyrmex", Some(("prometheus-client", 1.0)));
    }
}

/// Past the series limit: a label set never seen before (a flood of new values) against a
/// cached lookup of the same family.
fn overflow_lookup() {
    let sets = label_sets(20).0;
    let n_sets = sets.len();
    let policy = codomyrmex_metrics::Policy::default().with_max_series_per_metric(n_sets);
    let r = Registry::builder().policy(policy).build();
    let f = r.counter_family("requests", "h", &["method", "route", "status"]).unwrap();
    for s in &sets {
        f.inc(s);
    }
    let mut t = Table::new("past the series limit: a new label set folded into overflow, 500 series", "ns/op");
    t.add(
        "cached lookup",
        median_ns(SAMPLES, iters() / 4, |n| {
            for i in 0..n as usize {
                f.inc(black_box(&sets[i % n_sets]));
            }
        }),
    );
    // 200,000 values never seen (far more than the raw-key cache keeps), cycled.
    let fresh: Vec<[String; 3]> =
        (0..200_000).map(|i| ["GET".to_owned(), format!("/flood/{i}"), "200".to_owned()]).collect();
    t.add(
        "folded into overflow",
        median_ns(SAMPLES, iters() / 8, |n| {
            for i in 0..n as usize {
                let s = black_box(&fresh[i % fresh.len()]);
                f.inc(&[s[0].as_str(), s[1].as_str(), s[2].as_str()]);
            }
        }),
    );
    t.print("folded into overflow", Some(("cached lookup", 2.0)));
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    println!("## hot path (median of {SAMPLES} samples)");
    counter_resolved();
    counter_labeled();
    overflow_lookup();
    histogram_observe();
}
