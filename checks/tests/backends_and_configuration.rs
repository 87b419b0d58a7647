//! `get_metrics`, backend URLs, environment variables, custom exporters, shutdown.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use codomyrmex_metrics::export::{Exporter, ExporterError, PullExporter, PushExporter};
use codomyrmex_metrics::{get_metrics, Backend, ConfigError, Format, MetricsBuilder, Registry};

#[test]
fn urls_parse_and_errors_list_what_is_accepted() {
    assert!(matches!("memory://".parse::<Backend>().unwrap(), Backend::InMemory));
    assert!(matches!("noop://".parse::<Backend>().unwrap(), Backend::Noop));
    assert!(matches!("memory://, noop://".parse::<Backend>().unwrap(), Backend::Multi(v) if v.len() == 2));
    let err = "gopher://x".parse::<Backend>().unwrap_err();
    assert!(matches!(err, ConfigError::UnknownScheme { .. }));
    let msg = err.to_string();
    for scheme in ["memory://", "noop://", "prometheus://", "pushgateway+https://", "statsd+unix://"] {
        assert!(msg.contains(scheme), "{msg}");
    }
    assert!("no-scheme".parse::<Backend>().unwrap_err().to_string().contains("accepted"));
    assert!("memory://host/path".parse::<Backend>().is_err());
    assert!("".parse::<Backend>().is_err());
}

#[cfg(not(feature = "statsd"))]
#[test]
fn a_backend_behind_a_missing_feature_says_which_feature() {
    let msg = "statsd+tcp://127.0.0.1:8125".parse::<Backend>().map(|_| ()).unwrap_err().to_string();
    assert!(msg.contains("`statsd` cargo feature"), "{msg}");
}

#[test]
fn a_url_secret_never_appears_in_the_error() {
    let msg = "gopher://user:hunter2@host".parse::<Backend>().unwrap_err().to_string();
    assert!(!msg.contains("hunter2"), "{msg}");
}

#[test]
fn the_environment_configures_backend_prefix_labels_and_limits() {
    let env: HashMap<&str, &str> = HashMap::from([
        ("CODOMYRMEX_METRICS_BACKEND", "memory://"),
        ("CODOMYRMEX_METRICS_PREFIX", "svc"),
        ("CODOMYRMEX_METRICS_GLOBAL_LABELS", "env=prod, region=eu"),
        ("CODOMYRMEX_METRICS_MAX_SERIES_PER_METRIC", "2"),
    ]);
    let m = MetricsBuilder::from_env_with(|k| env.get(k).map(|v| (*v).to_owned())).unwrap().build().unwrap();
    let f = m.counter_family("hits", "h", &["k"]).unwrap();
    for k in ["a", "b", "c"] {
        f.with(&[k]).inc();
    }
    let t = m.render(Format::PrometheusText);
    assert!(t.contains("svc_hits_total{env=\"prod\",region=\"eu\",k=\"a\"} 1\n"), "{t}");
    assert!(t.contains("svc_hits_total{env=\"prod\",region=\"eu\",codomyrmex_overflow=\"true\"} 1\n"), "{t}");
}

#[test]
fn bad_environment_values_name_the_variable() {
    for (var, value) in [
        ("CODOMYRMEX_METRICS_BACKEND", "bogus://"),
        ("CODOMYRMEX_METRICS_PREFIX", "9bad"),
        ("CODOMYRMEX_METRICS_GLOBAL_LABELS", "novalue"),
        ("CODOMYRMEX_METRICS_MAX_SERIES_TOTAL", "-1"),
    ] {
        let err = MetricsBuilder::from_env_with(|k| (k == var).then(|| value.to_owned())).unwrap_err();
        assert!(err.to_string().contains(var), "{err}");
    }
}

#[test]
fn the_noop_backend_records_nothing_but_still_validates_names() {
    let m = get_metrics(Backend::Noop).unwrap();
    let c = m.counter("c", "h").unwrap();
    assert!(c.is_noop());
    c.inc();
    m.counter_family("f", "h", &["k"]).unwrap().inc(&["v"]);
    assert!(m.counter("bad name", "h").is_err());
    assert!(!m.render(Format::PrometheusText).contains("c_total 1"));
    assert_eq!(m.series_count(), 0);
}

#[derive(Clone, Default)]
struct Collected(Arc<Mutex<Vec<String>>>);

struct CollectingPush(Collected);

impl PushExporter for CollectingPush {
    fn name(&self) -> &str {
        "collecting"
    }
    fn interval(&self) -> Duration {
        Duration::from_millis(10)
    }
    fn push(&mut self, registry: &Registry) -> Result<(), ExporterError> {
        self.0 .0.lock().unwrap().push(registry.render(Format::PrometheusText));
        Ok(())
    }
}

struct StartFails;

impl PullExporter for StartFails {
    fn name(&self) -> &str {
        "start-fails"
    }
    fn start(&mut self, _: Registry) -> Result<(), ExporterError> {
        Err(ExporterError::Start { exporter: "start-fails".into(), source: "port in use".into() })
    }
}

#[test]
fn a_push_exporter_runs_on_its_interval_and_once_more_at_shutdown() {
    let seen = Collected::default();
    let m = get_metrics(Backend::Multi(vec![
        Backend::InMemory,
        Backend::Custom(Exporter::Push(Box::new(CollectingPush(seen.clone())))),
    ]))
    .unwrap();
    let c = m.counter("ticks", "h").unwrap();
    c.inc();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while seen.0.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    c.inc_by(41);
    let clone = m.clone();
    clone.shutdown().unwrap();
    m.shutdown().unwrap(); // idempotent
    let pushes = seen.0.lock().unwrap();
    assert!(pushes.len() >= 2, "{}", pushes.len());
    assert!(pushes.last().unwrap().contains("ticks_total 42\n"));
}

#[test]
fn an_exporter_that_cannot_start_is_a_typed_error() {
    let err = get_metrics(Backend::Custom(Exporter::Pull(Box::new(StartFails)))).unwrap_err();
    assert!(matches!(err, ConfigError::Exporter { .. }));
    assert!(err.to_string().contains("start-fails"));
}
