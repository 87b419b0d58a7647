//! What the checks share: the features of this build and exposition helpers.

use codomyrmex_metrics::{get_metrics, Backend, Format, Metrics};

/// The cargo features this build was made with.
pub const FEATURES: &[&str] = &[
    "default",
    #[cfg(feature = "prometheus")]
    "prometheus",
    #[cfg(feature = "pushgateway")]
    "pushgateway",
    #[cfg(feature = "statsd")]
    "statsd",
    #[cfg(feature = "otlp")]
    "otlp",
    #[cfg(feature = "otlp-grpc")]
    "otlp-grpc",
    #[cfg(feature = "tls")]
    "tls",
    #[cfg(feature = "tower")]
    "tower",
    #[cfg(feature = "axum")]
    "axum",
    #[cfg(feature = "process")]
    "process",
];

/// A fresh in-memory backend.
pub fn memory() -> Metrics {
    get_metrics(Backend::InMemory).expect("the in-memory backend always builds")
}

/// The sample lines of `text` (no comments), for exact assertions.
pub fn samples(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect()
}

/// The value of the one sample line that starts with `series ` (name and labels as rendered).
pub fn value_of(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Renders Prometheus text and checks its shape (see [`check_exposition`]).
pub fn render_checked(metrics: &Metrics) -> String {
    let text = metrics.render(Format::PrometheusText);
    check_exposition(&text);
    text
}

/// Checks every line has the exposition's shape: `# HELP`/`# TYPE`, or `name{labels} value`
/// whose label values are closed quoted strings.
pub fn check_exposition(text: &str) {
    for line in text.lines() {
        assert!(!line.is_empty(), "empty line in the exposition");
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        assert!(!line.starts_with('#'), "stray comment line {line:?}");
        let rest = match line.find('{') {
            Some(open) => {
                let close = closing_brace(line, open).unwrap_or_else(|| panic!("unclosed labels in {line:?}"));
                &line[close + 1..]
            }
            None => line.split_once(' ').map_or("", |(_, v)| v),
        };
        let value = rest.trim().split(' ').next().unwrap_or_default();
        assert!(
            value.parse::<f64>().is_ok() || matches!(value, "+Inf" | "-Inf" | "NaN"),
            "bad value {value:?} in {line:?}"
        );
    }
}

/// Index of the `}` that closes the label set opened at `open`, honouring `\"` escapes.
fn closing_brace(line: &str, open: usize) -> Option<usize> {
    let bytes = line.as_bytes();
    let (mut i, mut in_str) = (open + 1, false);
    while i < bytes.len() {
        match (bytes[i], in_str) {
            (b'\\', true) => i += 1,
            (b'"', _) => in_str = !in_str,
            (b'}', false) => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// Accepts one request on a real socket and answers 200, returning the head and the body.
#[cfg(any(feature = "pushgateway", feature = "otlp"))]
pub fn one_request(listener: std::net::TcpListener) -> std::thread::JoinHandle<Vec<u8>> {
    use std::io::{BufRead, BufReader, Read, Write};
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let (mut head, mut len) = (String::new(), 0usize);
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        reader.get_mut().write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").unwrap();
        let mut got = head.into_bytes();
        got.extend(body);
        got
    })
}
