use codomyrmex_metrics::{get_metrics, Backend, Format};
fn main() {
    let metrics = get_metrics(Backend::InMemory).unwrap();
    let requests = metrics.counter_family("http_requests", "HTTP requests served.", &["method", "status"]).unwrap();
    requests.with(&["GET", "200"]).inc_by(3);
    requests.with(&["POST", "alice@example.com"]).inc();
    print!("{}", metrics.render(Format::PrometheusText));
}
