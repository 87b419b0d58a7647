//! What must hold exactly when many threads use one registry at once: a sharded counter's
//! `absolute` never overshoots, the registry-wide series limit is never passed, a
//! `for_each_series` callback may use the registry, idle expiry's work under a family's lock
//! grows with the series, not with expired series times cached keys, and label sets raced
//! into being from many threads make one series each while renders read them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use codomyrmex_metrics::{ManualClock, MetricOpts, Policy, Registry};

const THREADS: usize = 8;

/// Runs `f` on another thread and fails if it has not returned within `limit`: a deadlock or
/// a lock held for minutes is a failure, not a hung test run.
fn within<T: Send + 'static>(limit: Duration, what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| panic!("{what} did not return within {limit:?}"))
}

#[test]
fn a_sharded_counters_absolute_never_overshoots() {
    for round in 0..5 {
        let registry = Registry::default();
        let _typed = registry.register_counter(MetricOpts::new("raised", "Raised with absolute.").sharded()).unwrap();
        let recorder = codomyrmex_metrics::FacadeRecorder::new(registry.clone());
        let start = Arc::new(Barrier::new(THREADS));
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (recorder, start) = (recorder.clone(), Arc::clone(&start));
                std::thread::spawn(move || {
                    metrics::with_local_recorder(&recorder, || {
                        let counter = metrics::counter!("raised");
                        start.wait();
                        for n in 1..=20_000u64 {
                            counter.absolute(n);
                        }
                    })
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let text = registry.render(codomyrmex_metrics::Format::PrometheusText);
        assert!(
            text.contains("\nraised_total 20000\n"),
            "round {round}: absolute(20000) from {THREADS} threads:\n{text}"
        );
    }
}

#[test]
fn the_registry_wide_series_limit_holds_exactly() {
    // Many short races right at the limit: each round, THREADS families resolve their first
    // label sets at once into a registry that has room for half of them.
    let limit = THREADS / 2;
    let mut passed = Vec::new();
    for round in 0..2_000 {
        let policy = Policy::default().with_max_series_total(limit);
        let registry = Registry::builder().policy(policy).build();
        let families: Vec<_> = (0..THREADS)
            .map(|t| registry.counter_family(&format!("family_{t}"), "One per thread.", &["v"]).unwrap())
            .collect();
        let start = Arc::new(Barrier::new(THREADS));
        let workers: Vec<_> = families
            .into_iter()
            .map(|family| {
                let start = Arc::clone(&start);
                std::thread::spawn(move || {
                    start.wait();
                    family.with(&["a"]).inc();
                    family.with(&["b"]).inc();
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        let held = registry.series_count();
        if held != limit {
            passed.push((round, held));
        }
        // Nothing was lost: every increment is in a series or an overflow series.
        let text = registry.render(codomyrmex_metrics::Format::PrometheusText);
        let total: f64 = text
            .lines()
            .filter(|l| l.starts_with("family_"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum();
        assert_eq!(total, (THREADS * 2) as f64, "round {round}");
    }
    assert!(passed.is_empty(), "rounds where the registry held other than {limit} series: {passed:?}");
}

#[test]
fn for_each_series_callbacks_may_use_the_registry() {
    let registry = Registry::default();
    let family = registry.counter_family("visited", "Visited.", &["k"]).unwrap();
    for i in 0..100 {
        family.with(&[&i.to_string()]).inc();
    }
    let seen = within(Duration::from_secs(10), "for_each_series with a callback that registers", move || {
        let mut seen = 0;
        let mut n = 0;
        registry.for_each_series(|s| {
            seen += 1;
            // A new label set in the family being read, and a new family.
            family.with(&[&format!("new-{n}")]).inc();
            registry.counter(&format!("registered_meanwhile_{n}"), "From a callback.").unwrap().inc();
            n += 1;
            let _ = s.name();
        });
        seen
    });
    assert!(seen >= 100, "{seen}");
}

#[test]
fn idle_expiry_work_grows_with_the_series_not_their_square() {
    let clock = Arc::new(ManualClock::default());
    let policy = Policy::default().with_max_series_per_metric(100_000);
    let registry =
        Registry::builder().policy(policy).idle_timeout(Duration::from_secs(60)).clock(clock.clone()).build();
    let family = registry.counter_family("idle", "Idle.", &["k"]).unwrap();
    let n = 30_000;
    for i in 0..n {
        family.with(&[&i.to_string()]).inc();
    }
    // Handles held across the sweep must survive it and keep counting exactly.
    let held: Vec<_> = (0..50).map(|i| family.with(&[&i.to_string()])).collect();
    assert_eq!(registry.run_upkeep(), 0);
    clock.advance(Duration::from_secs(120));
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (family, stop) = (family.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut lookups = 0u64;
            while !stop.load(Ordering::Relaxed) {
                family.with(&["busy"]).inc();
                lookups += 1;
            }
            lookups
        })
    };
    let started = Instant::now();
    let expired = within(Duration::from_secs(10), "expiring 30,000 idle series", {
        let registry = registry.clone();
        move || registry.run_upkeep()
    });
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let lookups = reader.join().unwrap();
    assert_eq!(expired, n - held.len(), "held series stay (took {took:?})");
    for h in &held {
        h.inc();
        assert_eq!(h.value(), 2.0);
    }
    assert!(lookups > 0);
}

#[test]
fn new_label_sets_raced_from_many_threads_make_one_series_each() {
    // New series gather in a family's young table before they join the table lookups read:
    // racing threads must find each other's, and renders must list them, all along.
    const SETS: usize = 300;
    for round in 0..20 {
        let policy = Policy::default().with_max_series_per_metric(SETS + 10);
        let registry = Registry::builder().policy(policy).build();
        let family = registry.counter_family("raced", "Raced.", &["v"]).unwrap();
        let values: Arc<Vec<String>> = Arc::new((0..SETS).map(|i| format!("value-{i}")).collect());
        let start = Arc::new(Barrier::new(THREADS + 1));
        let done = Arc::new(AtomicBool::new(false));
        let reader = {
            let (registry, start, done) = (registry.clone(), Arc::clone(&start), Arc::clone(&done));
            std::thread::spawn(move || {
                start.wait();
                let mut last = 0;
                while !done.load(Ordering::Relaxed) {
                    let text = registry.render(codomyrmex_metrics::Format::PrometheusText);
                    let listed = text.lines().filter(|l| l.starts_with("raced_total{")).count();
                    assert!(listed >= last && listed <= SETS, "round {round}: {last} then {listed} series listed");
                    last = listed;
                }
            })
        };
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (family, values, start) = (family.clone(), Arc::clone(&values), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    // Each thread in its own order (rotated, half of them reversed), so that
                    // every set is raced by some.
                    for i in 0..SETS {
                        let i = if t % 2 == 0 { i } else { SETS - 1 - i };
                        family.inc(&[&values[(i + t * 37) % SETS]]);
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        reader.join().unwrap();
        let text = registry.render(codomyrmex_metrics::Format::PrometheusText);
        let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("raced_total{")).collect();
        assert_eq!(lines.len(), SETS, "round {round}:\n{text}");
        assert!(lines.iter().all(|l| l.ends_with(&format!(" {THREADS}"))), "round {round}:\n{text}");
        assert!(!text.contains("codomyrmex_overflow"), "round {round}: a duplicate series overflowed:\n{text}");
        assert_eq!(registry.series_count(), SETS, "round {round}");
        // Sets made once and never looked up again are listed at once, by every reader.
        for i in 0..10 {
            family.inc(&[&format!("once-{i}")]);
        }
        let text = registry.render(codomyrmex_metrics::Format::PrometheusText);
        assert_eq!(text.lines().filter(|l| l.starts_with("raced_total{")).count(), SETS + 10, "{text}");
        let mut listed = 0;
        registry.for_each_series(|s| listed += usize::from(s.name() == "raced"));
        assert_eq!(listed, SETS + 10, "round {round}");
    }
}
