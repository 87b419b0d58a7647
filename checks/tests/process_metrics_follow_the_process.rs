//! The opt-in process metrics (feature `process`, Linux): conventional names whatever the
//! registry's prefix, values that follow the process (files opened, CPU burnt), an exposition
//! that promtool and the Python parser accept, and the usual registration rules.
#![cfg(all(feature = "process", target_os = "linux"))]

mod support;

use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use codomyrmex_metrics::{Format, RegistrationError, Registry, PROCESS_METRICS};

/// The open-file count is the whole process's: a test running beside this one (reading /proc
/// to register its own process metrics) opens and closes files too. The tests here take turns.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn value(text: &str, name: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
        .unwrap_or_else(|| panic!("{name} missing from:\n{text}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn process_metrics_keep_their_names_and_follow_the_process() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let registry = Registry::builder().prefix("shop_").unwrap().global_label("instance", "a").unwrap().build();
    registry.register_process_metrics().unwrap();
    registry.register_process_metrics().unwrap(); // again: nothing changes
    let before = registry.render(Format::PrometheusText);
    for name in PROCESS_METRICS {
        assert!(before.contains(&format!("\n{name}{{instance=\"a\"}} ")), "{name} missing:\n{before}");
    }
    assert!(!before.contains("shop_process"), "the prefix must not apply:\n{before}");

    let files: Vec<_> = (0..16).map(|_| std::fs::File::open("/proc/self/stat").unwrap()).collect();
    let spin = Instant::now();
    let mut x = 0u64;
    while spin.elapsed().as_millis() < 300 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
    }
    std::hint::black_box(x);
    let after = registry.render(Format::PrometheusText);
    drop(files);

    let fds = value(&after, "process_open_fds") - value(&before, "process_open_fds");
    assert!(fds >= 16.0, "16 more files open, the gauge moved by {fds}");
    let cpu = value(&after, "process_cpu_seconds_total") - value(&before, "process_cpu_seconds_total");
    assert!(cpu >= 0.1, "300 ms of spinning added {cpu} CPU seconds");
    assert!(value(&after, "process_threads") >= 1.0);
    assert!(value(&after, "process_resident_memory_bytes") > 1e6);
    assert!(value(&after, "process_virtual_memory_bytes") >= value(&after, "process_resident_memory_bytes"));
    assert!(value(&after, "process_max_fds") >= value(&after, "process_open_fds"));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    let start = value(&after, "process_start_time_seconds");
    assert!(start <= now + 1.0 && start > now - 3600.0, "start {start}, now {now}");
    assert_eq!(registry.self_metrics().get(codomyrmex_metrics::Event::ProcessReadFailed), 0);

    if let Some(result) = support::promtool(&after) {
        result.unwrap();
    }
    if let Some(result) = support::strict_parse(&registry.render(Format::OpenMetrics), true) {
        result.unwrap();
    }
}

#[test]
fn a_name_taken_with_another_type_is_a_registration_error() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let registry = Registry::default();
    let _ = registry.counter("process_threads", "Not a gauge.").unwrap();
    let err = registry.register_process_metrics().unwrap_err();
    assert!(matches!(err, RegistrationError::Conflict { .. }), "{err}");
    // Nothing half-registered blocks a later attempt on a clean registry.
    Registry::default().register_process_metrics().unwrap();
}
