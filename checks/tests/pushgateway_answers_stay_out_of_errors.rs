//! What a Pushgateway answers never reaches an error or a log line (a gateway's 400 repeats
//! the pushed names and label values), only a few KiB of it are read, and a credential that
//! cannot travel in a header is a configuration error, never a push sent without it.
#![cfg(feature = "pushgateway")]

use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

use codomyrmex_metrics::{get_metrics, Backend, PushgatewayConfig};

/// A server on a real socket that answers every request with `400` and a long body that
/// starts with something secret.
fn refusing_gateway() -> (String, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        for stream in listener.incoming().take(1) {
            let stream = stream.unwrap();
            let mut reader = BufReader::new(stream);
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let answer = format!("secret-label-value-in-the-answer {}", "x".repeat(1 << 20));
            let head = format!("HTTP/1.1 400 Bad Request\r\ncontent-length: {}\r\n\r\n", answer.len());
            let s = reader.get_mut();
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(answer.as_bytes());
        }
    });
    (url, server)
}

#[test]
fn the_gateways_answer_is_not_in_the_error() {
    let (url, server) = refusing_gateway();
    let config = PushgatewayConfig::builder(&url, "job").unwrap().interval(Duration::from_secs(3600)).build().unwrap();
    let m = get_metrics(Backend::Pushgateway(config)).unwrap();
    m.counter("pushed", "Pushed.").unwrap().inc();
    let err = m.shutdown().expect_err("the gateway refused the push");
    let text = format!("{err} {err:?}");
    assert!(text.contains("400"), "{text}");
    assert!(!text.contains("secret-label-value"), "{text}");
    server.join().unwrap();
}

#[test]
fn a_credential_a_header_cannot_carry_is_refused_at_build() {
    for token in ["line\nbreak-token", "tab\ttoken-value", "caf\u{e9}-token-value"] {
        let err = PushgatewayConfig::builder("https://gw.example:9091", "job")
            .unwrap()
            .bearer_token(token)
            .build()
            .expect_err("refused");
        assert!(!err.to_string().contains(token), "{err}");
    }
    // Basic credentials travel base64-encoded: any password can.
    assert!(PushgatewayConfig::builder("https://gw.example:9091", "job")
        .unwrap()
        .basic_auth("pusher", "p\u{e4}ssword-with-umlaut")
        .build()
        .is_ok());
}
