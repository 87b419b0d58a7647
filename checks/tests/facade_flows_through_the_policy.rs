//! The `metrics` facade: describe, units, name rewriting, type conflicts, every handle kind,
//! and a process-wide install.

use codomyrmex_metrics::{get_metrics, Backend, Event, Format, Metrics};

fn with(m: &Metrics, f: impl FnOnce()) {
    metrics::with_local_recorder(&m.recorder(), f);
}

#[test]
fn describe_supplies_help_and_unit_before_or_after_first_use() {
    let m = get_metrics(Backend::InMemory).unwrap();
    with(&m, || {
        metrics::describe_histogram!("upload_bytes", metrics::Unit::Bytes, "Upload sizes.");
        metrics::histogram!("upload_bytes").record(10.0);
        metrics::counter!("late_total").increment(1);
        metrics::describe_counter!("late_total", "Described after first use.");
    });
    let om = m.render(Format::OpenMetrics);
    assert!(
        om.contains("# HELP upload_bytes Upload sizes.\n# TYPE upload_bytes histogram\n# UNIT upload_bytes bytes\n"),
        "{om}"
    );
    assert!(om.contains("# HELP late Described after first use.\n"), "{om}");
}

#[test]
fn facade_names_are_rewritten_into_the_grammar_and_counted() {
    let m = get_metrics(Backend::InMemory).unwrap();
    with(&m, || {
        metrics::counter!("http.server.requests").increment(2);
        metrics::gauge!("9lives").set(1.0);
        metrics::counter!("codomyrmex_metrics_fake").increment(1);
        metrics::counter!("codomyrmex_metrics_fake", "k" => "v").increment(1);
    });
    let t = m.render(Format::PrometheusText);
    assert!(t.contains("\nhttp_server_requests_total 2\n"), "{t}");
    assert!(t.contains("\n_9lives 1\n"), "{t}");
    assert!(!t.contains("codomyrmex_metrics_fake"));
    assert_eq!(m.self_metrics().get(Event::NameSanitized), 2);
    assert_eq!(m.self_metrics().get(Event::InvalidName), 1);
    assert_eq!(m.self_metrics().get(Event::TypeConflict), 0, "a refused name is not a type conflict");
}

#[test]
fn a_name_used_with_two_types_keeps_the_first() {
    let m = get_metrics(Backend::InMemory).unwrap();
    with(&m, || {
        metrics::counter!("dual").increment(1);
        metrics::gauge!("dual").set(5.0);
        metrics::histogram!("dual").record(1.0);
        metrics::counter!("dual").increment(1);
    });
    let t = m.render(Format::PrometheusText);
    assert!(t.contains("\ndual_total 2\n"), "{t}");
    assert_eq!(m.self_metrics().get(Event::TypeConflict), 2);
}

#[test]
fn every_handle_kind_records() {
    let m = get_metrics(Backend::InMemory).unwrap();
    with(&m, || {
        let c = metrics::counter!("bytes_total", "dir" => "in");
        c.increment(5);
        c.absolute(3); // lower than now: ignored, counters never go down
        c.absolute(9);
        let g = metrics::gauge!("depth");
        g.set(3.0);
        g.increment(2.0);
        g.decrement(0.5);
        g.set(f64::NAN);
        let h = metrics::histogram!("wait_seconds");
        h.record(0.2);
        h.record(f64::INFINITY);
    });
    let t = m.render(Format::PrometheusText);
    assert!(t.contains("bytes_total{dir=\"in\"} 9\n"), "{t}");
    assert!(t.contains("\ndepth 4.5\n"), "{t}");
    assert!(t.contains("wait_seconds_count 1\n"), "{t}");
    assert_eq!(m.self_metrics().get(Event::NanGauge), 1);
    assert_eq!(m.self_metrics().get(Event::NonFiniteObservation), 1);
}

#[test]
fn the_facade_uses_a_declared_schema_when_the_typed_api_registered_the_name() {
    let m = get_metrics(Backend::InMemory).unwrap();
    let typed = m.counter_family("orders", "Orders.", &["region", "kind"]).unwrap();
    typed.with(&["eu", "book"]).inc();
    with(&m, || metrics::counter!("orders", "kind" => "book", "region" => "eu", "extra" => "x").increment(1));
    assert_eq!(typed.with(&["eu", "book"]).value(), 2.0);
    assert_eq!(m.self_metrics().get(Event::KeyNotAllowed), 1);
}

#[test]
fn a_global_install_receives_macros_from_any_thread() {
    let m = get_metrics(Backend::InMemory).unwrap();
    m.install_recorder().unwrap();
    std::thread::spawn(|| metrics::counter!("from_thread", "t" => "1").increment(4)).join().unwrap();
    assert!(m.render(Format::PrometheusText).contains("from_thread_total{t=\"1\"} 4\n"));
    assert!(get_metrics(Backend::InMemory).unwrap().install_recorder().is_err());
}
