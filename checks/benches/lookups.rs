//! Labelled lookups against every peer, in one run: three `&str` labels looked up per call over
//! 500 series, with 1 and 2 threads; `measured` both with dynamic labels (`ParaCord`) and with
//! its fastest form, labels from a fixed `IndexSet` (a dense array behind them). And how the
//! lookup cost grows from 50 to 50,000 series. Issue 12's targets: at most 0.9x the fastest of
//! prometheus, prometheus-client and measured with 1 and 2 threads; growth at most 1.5x from 50
//! to 50,000 series, and at most 1.0x measured there; the typed-label path (`FixedLabels`) at
//! most 1.2x a dense array of atomics; creating a series at most 3x measured's.
//! Run: `cargo bench -p codomyrmex-metrics-checks --bench lookups` (`BENCH_QUICK=1` for a short run;
//! `-- creation` or another group name runs that group only).

mod common;

use std::hint::black_box;

use codomyrmex_metrics::{Policy, Registry};
use common::{label_sets, median_ns, median_ns_threads, Table, Three, ThreeSet};
use indexmap::IndexSet;
use measured::LabelGroup;
use paracord::ParaCord;

const SAMPLES: usize = 11;

fn iters() -> u64 {
    if common::quick() {
        400_000
    } else {
        4_000_000
    }
}

#[derive(Clone, Copy, PartialEq, Debug, LabelGroup)]
#[label(set = FixedSet)]
struct Fixed {
    #[label(fixed_with = IndexSet<&'static str>)]
    method: &'static str,
    #[label(fixed_with = IndexSet<&'static str>)]
    route: &'static str,
    #[label(fixed_with = IndexSet<&'static str>)]
    status: &'static str,
}

/// measured's fastest form: labels from fixed sets of the known values.
fn measured_fixed(values: &[Vec<&'static str>; 3]) -> measured::CounterVec<FixedSet> {
    measured::CounterVec::with_label_set(FixedSet {
        method: values[0].iter().copied().collect(),
        route: values[1].iter().copied().collect(),
        status: values[2].iter().copied().collect(),
    })
}

fn ours(sets: &[[&'static str; 3]]) -> Registry {
    let r = Registry::builder().policy(Policy::default().with_max_series_per_metric(sets.len() + 1)).build();
    r.counter_family("requests", "h", &["method", "route", "status"]).unwrap();
    r
}

/// One thread or two, each looking up the sets in turn (two threads start half-way apart).
fn run(threads: usize, iters: u64, sets: &[[&'static str; 3]], f: impl Fn(&[&'static str; 3]) + Sync) -> f64 {
    let n_sets = sets.len();
    if threads == 1 {
        median_ns(SAMPLES, iters, |n| {
            for i in 0..n as usize {
                f(black_box(&sets[i % n_sets]));
            }
        })
    } else {
        median_ns_threads(SAMPLES, iters, threads, |n| {
            let start = fastrand_start();
            for i in 0..n as usize {
                f(black_box(&sets[(start + i) % n_sets]));
            }
        })
    }
}

fn fastrand_start() -> usize {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish() as usize
}

fn lookups(threads: usize) {
    let (sets, values) = label_sets(20);
    let unit = if threads == 1 { "ns/op" } else { "ns/op per thread" };
    let mut t = Table::new(&format!("3 string labels looked up per call, 500 series, {threads} thread(s)"), unit);

    let r = ours(&sets);
    let f = r.counter_family("requests", "h", &["method", "route", "status"]).unwrap();
    t.add("codomyrmex", run(threads, iters(), &sets, |s| f.inc(s)));

    let md = measured::CounterVec::with_label_set(ThreeSet {
        method: ParaCord::default(),
        route: ParaCord::default(),
        status: ParaCord::default(),
    });
    t.add(
        "measured (ParaCord)",
        run(threads, iters(), &sets, |s| md.inc(Three { method: s[0], route: s[1], status: s[2] })),
    );

    let mf = measured_fixed(&values);
    t.add(
        "measured (fixed IndexSet)",
        run(threads, iters(), &sets, |s| mf.inc(Fixed { method: s[0], route: s[1], status: s[2] })),
    );

    let pv =
        prometheus::IntCounterVec::new(prometheus::Opts::new("requests", "h"), &["method", "route", "status"]).unwrap();
    t.add("prometheus", run(threads, iters(), &sets, |s| pv.with_label_values(s).inc()));

    type PcLabels = [(&'static str, &'static str); 3];
    let pcf =
        prometheus_client::metrics::family::Family::<PcLabels, prometheus_client::metrics::counter::Counter>::default();
    t.add(
        "prometheus-client",
        run(threads, iters(), &sets, |s| {
            pcf.get_or_create(&[("method", s[0]), ("route", s[1]), ("status", s[2])]).inc();
        }),
    );
    let fastest = ["measured (ParaCord)", "measured (fixed IndexSet)", "prometheus", "prometheus-client"]
        .into_iter()
        .min_by(|a, b| t.value(a).total_cmp(&t.value(b)))
        .unwrap_or("prometheus");
    t.print("codomyrmex", Some((fastest, 0.9)));
}

fn scaling() {
    let mut t = Table::new("lookup cost as the family grows (3 labels, 1 thread)", "ns/op");
    let mut ours_at = Vec::new();
    let mut measured_at = Vec::new();
    for routes in [2usize, 2_000] {
        let (sets, values) = label_sets(routes);
        let n = sets.len();
        let r = ours(&sets);
        let f = r.counter_family("requests", "h", &["method", "route", "status"]).unwrap();
        let v = run(1, iters() / 2, &sets, |s| f.inc(s));
        t.add(&format!("codomyrmex, {n} series"), v);
        ours_at.push(v);
        let mf = measured_fixed(&values);
        let v = run(1, iters() / 2, &sets, |s| mf.inc(Fixed { method: s[0], route: s[1], status: s[2] }));
        t.add(&format!("measured (fixed IndexSet), {n} series"), v);
        measured_at.push(v);
    }
    t.print("codomyrmex, 50000 series", Some(("measured (fixed IndexSet), 50000 series", 1.0)));
    let growth = ours_at[1] / ours_at[0];
    let verdict = if growth <= 1.5 { "MET" } else { "MISSED" };
    println!("Target: codomyrmex grows <= 1.5x from 50 to 50,000 series: {growth:.2}x, {verdict}");
    println!("(measured (fixed IndexSet) grows {:.2}x)", measured_at[1] / measured_at[0]);
}

/// 500 sets known at compile time: an index (method x route x status).
#[derive(Clone, Copy)]
struct Known(usize);

impl codomyrmex_metrics::FixedLabels for Known {
    const KEYS: &'static [&'static str] = &["method", "route", "status"];
    const COUNT: usize = 500;
    fn index(self) -> usize {
        self.0
    }
    fn values(index: usize) -> Vec<&'static str> {
        let (sets, _) = label_sets(20);
        sets[index].to_vec()
    }
}

fn typed() {
    let indexes: Vec<usize> = label_sets(20).0.iter().enumerate().map(|(i, _)| (i * 7919) % 500).collect();
    let n = indexes.len();
    let mut t = Table::new("typed labels (a set known at compile time), 500 series, 1 thread", "ns/op");
    let floor: Vec<std::sync::atomic::AtomicU64> = (0..500).map(|_| std::sync::atomic::AtomicU64::new(0)).collect();
    t.add(
        "dense array of atomics (floor)",
        median_ns(SAMPLES, iters(), |k| {
            for i in 0..k as usize {
                floor[black_box(indexes[i % n])].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }),
    );
    let r = Registry::default();
    let fixed = r.counter_family("requests", "h", &["method", "route", "status"]).unwrap().fixed::<Known>().unwrap();
    t.add(
        "codomyrmex (fixed)",
        median_ns(SAMPLES, iters(), |k| {
            for i in 0..k as usize {
                fixed.get(Known(black_box(indexes[i % n]))).inc();
            }
        }),
    );
    let (_, values) = label_sets(20);
    let sets: Vec<Fixed> = label_sets(20).0.iter().map(|s| Fixed { method: s[0], route: s[1], status: s[2] }).collect();
    let mf = measured_fixed(&values);
    t.add(
        "measured (fixed IndexSet)",
        median_ns(SAMPLES, iters(), |k| {
            for i in 0..k as usize {
                mf.inc(black_box(sets[indexes[i % n]]));
            }
        }),
    );
    t.print("codomyrmex (fixed)", Some(("dense array of atomics (floor)", 1.2)));
}

/// Makes a fresh recorder of one label value (a new registry or peer each sample).
type Maker = Box<dyn FnMut() -> Box<dyn FnMut(&str)>>;

/// Creating series: 20,000 label sets never seen, each recorded once (the policy, the tables
/// and the allocations a new series costs). Issue 12's target: at most 3x measured's.
fn creation() {
    const N: usize = 20_000;
    let values: Vec<String> = (0..N).map(|i| format!("/api/v1/items/{i:08}")).collect();
    let per_series = |f: &mut dyn FnMut(&str)| {
        let started = std::time::Instant::now();
        for v in &values {
            f(black_box(v));
        }
        started.elapsed().as_nanos() as f64 / N as f64
    };
    // Samples taken in turns (one of each implementation, five rounds), so that a drift in
    // the process's heap over the group weighs on all of them alike.
    let mut makers: Vec<(&str, Maker)> = vec![
        (
            "codomyrmex",
            Box::new(|| {
                let r = Registry::builder().policy(Policy::default().with_max_series_per_metric(N + 1)).build();
                let f = r.counter_family("requests", "h", &["route"]).unwrap();
                Box::new(move |v: &str| f.inc(&[v]))
            }),
        ),
        (
            "codomyrmex, sensitive-data guard off (what the guard costs)",
            Box::new(|| {
                let guard = codomyrmex_metrics::SensitiveGuard::default().with_enabled(false);
                let policy = Policy::default().with_max_series_per_metric(N + 1).with_sensitive_guard(guard);
                let r = Registry::builder().policy(policy).build();
                let f = r.counter_family("requests", "h", &["route"]).unwrap();
                Box::new(move |v: &str| f.inc(&[v]))
            }),
        ),
        (
            "measured (ParaCord)",
            Box::new(|| {
                let m = measured::CounterVec::with_label_set(OneSet { route: ParaCord::default() });
                Box::new(move |v: &str| m.inc(One { route: v }))
            }),
        ),
        (
            "prometheus",
            Box::new(|| {
                let p = prometheus::IntCounterVec::new(prometheus::Opts::new("requests", "h"), &["route"]).unwrap();
                Box::new(move |v: &str| p.with_label_values(&[v]).inc())
            }),
        ),
        (
            "prometheus-client",
            Box::new(|| {
                let f = prometheus_client::metrics::family::Family::<
                    [(&'static str, String); 1],
                    prometheus_client::metrics::counter::Counter,
                >::default();
                Box::new(move |v: &str| {
                    f.get_or_create(&[("route", v.to_owned())]).inc();
                })
            }),
        ),
    ];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); makers.len()];
    for _ in 0..5 {
        for (i, (_, make)) in makers.iter_mut().enumerate() {
            samples[i].push(per_series(&mut *make()));
        }
    }
    let mut t = Table::new("creating a series (20,000 new label sets, one label)", "ns/series");
    for ((name, _), mut s) in makers.iter().zip(samples) {
        s.sort_by(f64::total_cmp);
        t.add(name, s[s.len() / 2]);
    }
    t.print("codomyrmex", Some(("measured (ParaCord)", 3.0)));
}

#[derive(Clone, Copy, PartialEq, Debug, LabelGroup)]
#[label(set = OneSet)]
struct One<'a> {
    #[label(dynamic_with = ParaCord)]
    route: &'a str,
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // glibc's malloc skips its arena lock until the process has had a second thread; a service
    // always has one, so every group (and one run alone) is measured as in one.
    std::thread::spawn(|| {}).join().expect("a thread");
    // `cargo bench --bench lookups -- creation` runs the named groups only.
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let run = |group: &str| only.is_empty() || only.iter().any(|o| o == group);
    println!("## labelled lookups (median of {SAMPLES} samples)");
    if run("lookups") {
        lookups(1);
        lookups(2);
    }
    if run("scaling") {
        scaling();
    }
    if run("typed") {
        typed();
    }
    if run("creation") {
        creation();
    }
}
