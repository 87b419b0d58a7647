//! Registration rules, global labels, prefix and idle-series expiry.

use std::sync::Arc;
use std::time::Duration;

use codomyrmex_metrics::{Buckets, Format, ManualClock, MetricOpts, RegistrationError, Registry, Unit};

#[test]
fn names_and_keys_follow_the_grammar() {
    let r = Registry::default();
    assert!(matches!(r.counter("9lives", "h"), Err(RegistrationError::InvalidName { .. })));
    assert!(matches!(r.counter("a-b", "h"), Err(RegistrationError::InvalidName { .. })));
    assert!(matches!(r.counter("codomyrmex_x", "h"), Err(RegistrationError::ReservedName { .. })));
    assert!(matches!(r.counter_family("c", "h", &["__x"]), Err(RegistrationError::InvalidLabelKey { .. })));
    assert!(matches!(r.counter_family("c", "h", &["le"]), Err(RegistrationError::InvalidLabelKey { .. })));
    assert!(matches!(r.counter_family("c", "h", &["a", "a"]), Err(RegistrationError::DuplicateLabelKey { .. })));
    assert!(matches!(r.histogram("h", "h", Buckets::new([]).unwrap_or_default()).map(|_| ()), Ok(())));
}

#[test]
fn the_same_registration_returns_the_same_family_and_a_different_one_is_an_error() {
    let r = Registry::default();
    let a = r.counter_family("jobs", "Jobs.", &["queue"]).unwrap();
    let b = r.counter_family("jobs", "Jobs.", &["queue"]).unwrap();
    a.with(&["q"]).inc();
    b.with(&["q"]).inc();
    assert_eq!(a.with(&["q"]).value(), 2.0);
    let conflict = |res: Result<(), RegistrationError>| match res {
        Err(RegistrationError::Conflict { what, .. }) => what,
        other => panic!("expected a conflict, got {other:?}"),
    };
    assert_eq!(conflict(r.gauge_family("jobs", "Jobs.", &["queue"]).map(|_| ())), "type");
    assert_eq!(conflict(r.counter_family("jobs", "Other.", &["queue"]).map(|_| ())), "help");
    assert_eq!(conflict(r.counter_family("jobs", "Jobs.", &["tenant"]).map(|_| ())), "label keys");
    let _lat = r.histogram("lat", "h", Buckets::linear(1.0, 1.0, 3).unwrap()).unwrap();
    assert_eq!(conflict(r.histogram("lat", "h", Buckets::default()).map(|_| ())), "buckets");
}

#[test]
fn rendered_sample_names_cannot_clash() {
    let r = Registry::default();
    let _requests = r.counter("requests", "h").unwrap();
    assert!(matches!(r.gauge("requests_total", "h"), Err(RegistrationError::NameClash { .. })));
    let _lat = r.histogram("lat", "h", Buckets::default()).unwrap();
    assert!(matches!(r.gauge("lat_count", "h"), Err(RegistrationError::NameClash { .. })));
}

#[test]
fn counters_end_in_total_once_and_units_become_suffixes() {
    let r = Registry::default();
    r.counter("a_total", "h").unwrap().inc();
    r.register_counter(MetricOpts::new("cpu", "h").unit(Unit::SECONDS)).unwrap().with(&[]).inc();
    let t = r.render(Format::PrometheusText);
    assert!(t.contains("\na_total 1\n"), "{t}");
    assert!(!t.contains("a_total_total"));
    assert!(t.contains("\ncpu_seconds_total 1\n"), "{t}");
    let om = r.render(Format::OpenMetrics);
    assert!(om.contains("# TYPE cpu_seconds counter\n# UNIT cpu_seconds seconds\n"), "{om}");
    assert!(matches!(Unit::new("Seconds"), Err(RegistrationError::InvalidUnit { .. })));
}

#[test]
fn prefix_and_global_labels_apply_to_every_series() {
    let r = Registry::builder().prefix("shop").unwrap().global_label("env", "prod").unwrap().build();
    r.counter_family("orders", "h", &["kind"]).unwrap().with(&["book"]).inc();
    r.gauge("up", "h").unwrap().set(1.0);
    let t = r.render(Format::PrometheusText);
    assert!(t.contains("shop_orders_total{env=\"prod\",kind=\"book\"} 1\n"), "{t}");
    assert!(t.contains("shop_up{env=\"prod\"} 1\n"), "{t}");
    assert!(matches!(r.counter_family("x", "h", &["env"]), Err(RegistrationError::GlobalLabelKey { .. })));
    assert!(Registry::builder().global_label("password", "x").is_err());
    assert!(Registry::builder().global_label("owner", "ops@example.com").is_err());
    assert!(Registry::builder().prefix("codomyrmex").is_err());
    assert!(Registry::builder().prefix("bad prefix").is_err());
}

#[test]
fn idle_series_expire_unless_a_handle_holds_them() {
    let clock = Arc::new(ManualClock::default());
    let r = Registry::builder().idle_timeout(Duration::from_secs(60)).clock(clock.clone()).build();
    let f = r.counter_family("c", "h", &["k"]).unwrap();
    f.inc(&["idle"]);
    let held = f.with(&["held"]);
    held.inc();
    f.inc(&["busy"]);
    assert_eq!(r.run_upkeep(), 0); // first sweep notes the values
    clock.advance(Duration::from_secs(61));
    f.inc(&["busy"]);
    assert_eq!(r.run_upkeep(), 1); // `idle` went; `held` has a handle; `busy` changed
    let t = r.render(Format::PrometheusText);
    assert!(!t.contains("k=\"idle\""), "{t}");
    assert!(t.contains("c_total{k=\"held\"} 1\n"));
    assert!(t.contains("c_total{k=\"busy\"} 2\n"));
    assert!(t.contains("codomyrmex_metrics_series_dropped_total{reason=\"expired\"} 1\n"));
    f.inc(&["idle"]); // comes back as a fresh series
    assert!(r.render(Format::PrometheusText).contains("c_total{k=\"idle\"} 1\n"));
}

#[test]
fn a_series_slot_freed_by_expiry_is_reusable_under_the_limit() {
    let clock = Arc::new(ManualClock::default());
    let r = Registry::builder()
        .policy(codomyrmex_metrics::Policy::default().with_max_series_per_metric(1))
        .idle_timeout(Duration::from_secs(1))
        .clock(clock.clone())
        .build();
    let f = r.counter_family("c", "h", &["k"]).unwrap();
    f.inc(&["a"]);
    r.run_upkeep();
    clock.advance(Duration::from_secs(2));
    assert_eq!(r.run_upkeep(), 1);
    f.inc(&["b"]);
    assert!(r.render(Format::PrometheusText).contains("c_total{k=\"b\"} 1\n"));
}

#[test]
fn histograms_use_the_layout_for_their_name_or_prefix() {
    let r = Registry::builder()
        .buckets_for_prefix("db_", Buckets::new([0.1, 1.0]).unwrap())
        .buckets_for_prefix("db_slow_", Buckets::new([10.0]).unwrap())
        .build();
    assert_eq!(r.buckets_for("db_query").bounds(), &[0.1, 1.0]);
    assert_eq!(r.buckets_for("db_slow_scan").bounds(), &[10.0]);
    assert_eq!(r.buckets_for("http").bounds(), &Buckets::DEFAULT_BOUNDS);
    let m = codomyrmex_metrics::MetricsBuilder::new(codomyrmex_metrics::Backend::InMemory)
        .registry(Registry::builder().buckets_for_prefix("db_", Buckets::new([0.1, 1.0]).unwrap()))
        .build()
        .unwrap();
    metrics::with_local_recorder(&m.recorder(), || metrics::histogram!("db_query").record(0.5));
    let t = m.render(Format::PrometheusText);
    assert!(t.contains("db_query_bucket{le=\"1.0\"} 1\n"), "{t}");
    assert!(!t.contains("le=\"0.005\""));
}

#[test]
fn bucket_layouts_are_validated() {
    assert!(Buckets::new([1.0, 1.0]).is_err());
    assert!(Buckets::new([f64::NAN]).is_err());
    assert!(Buckets::new([f64::INFINITY]).is_err());
    assert!(Buckets::linear(0.0, 0.0, 3).is_err());
    assert!(Buckets::exponential(0.0, 2.0, 3).is_err());
    assert!(Buckets::exponential(1.0, 1.0, 3).is_err());
    assert!(Buckets::linear(0.0, 1.0, 10_000).is_err());
}

#[test]
fn histogram_memory_is_constant_however_many_observations() {
    let r = Registry::default();
    let h = r.histogram("h", "h", Buckets::default()).unwrap();
    for i in 0..100_000 {
        h.observe(f64::from(i % 20) / 2.0);
    }
    let s = h.snapshot().unwrap();
    assert_eq!(s.count(), 100_000);
    assert_eq!(s.cumulative.len(), Buckets::DEFAULT_BOUNDS.len() + 1);
}

#[test]
fn a_sharded_counter_loses_nothing_across_threads() {
    let r = Registry::default();
    let c = r.register_counter(MetricOpts::new("hot", "h").sharded()).unwrap().with(&[]);
    std::thread::scope(|s| {
        for _ in 0..4 {
            let c = c.clone();
            s.spawn(move || (0..100_000).for_each(|_| c.inc()));
        }
    });
    c.inc_by_f64(0.5);
    assert_eq!(c.value(), 400_000.5);
    assert!(r.render(Format::PrometheusText).contains("\nhot_total 400000.5\n"));
}

#[test]
fn the_raw_key_cache_is_bounded_across_families_and_lookups_stay_correct_past_it() {
    // A total limit of 10 series allows 20 cached raw keys in all; 5 families x 10 values need 50.
    let r = Registry::builder().policy(codomyrmex_metrics::Policy::default().with_max_series_total(10)).build();
    let families: Vec<_> = (0..5).map(|i| r.counter_family(&format!("f{i}"), "h", &["k"]).unwrap()).collect();
    for _ in 0..3 {
        for f in &families {
            for v in 0..10 {
                f.inc(&[&format!("v{v}")]);
            }
        }
    }
    assert_eq!(r.series_count(), 10);
    let t = r.render(Format::PrometheusText);
    let rendered_total: f64 = t
        .lines()
        .filter(|l| l.starts_with('f') && !l.starts_with('#'))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(rendered_total, 150.0, "every increment is counted exactly once: {t}");
}

#[test]
fn idle_series_the_facade_recorded_expire_too() {
    let clock = Arc::new(ManualClock::default());
    let r = Registry::builder().idle_timeout(Duration::from_secs(60)).clock(clock.clone()).build();
    let recorder = codomyrmex_metrics::FacadeRecorder::new(r.clone());
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("jobs", "queue" => "mail").increment(1);
        metrics::counter!("jobs", "queue" => "sms").increment(1);
    });
    assert_eq!(r.run_upkeep(), 0);
    clock.advance(Duration::from_secs(61));
    metrics::with_local_recorder(&recorder, || metrics::counter!("jobs", "queue" => "sms").increment(1));
    assert_eq!(r.run_upkeep(), 1, "the facade's cache does not keep an idle series alive");
    let t = r.render(Format::PrometheusText);
    assert!(!t.contains("queue=\"mail\""), "{t}");
    // It comes back as a fresh series, through the same recorder.
    metrics::with_local_recorder(&recorder, || metrics::counter!("jobs", "queue" => "mail").increment(5));
    assert!(r.render(Format::PrometheusText).contains("jobs_total{queue=\"mail\"} 5\n"));
}
