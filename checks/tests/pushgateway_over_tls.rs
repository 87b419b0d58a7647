//! Pushes over HTTPS verify the gateway's certificate: accepted with the right CA, refused
//! with the system's roots (the test CA is not among them), with no crypto provider installed
//! by the process (the crate brings its own).
#![cfg(all(feature = "pushgateway", feature = "tls"))]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use codomyrmex_metrics::{get_metrics, Backend, PushgatewayConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An HTTPS listener that answers 200 and reports the first request line of each request.
fn tls_listener(certs: &std::path::Path) -> (SocketAddr, std::sync::mpsc::Receiver<String>) {
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(certs.join("server.crt")).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(certs.join("server.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let Ok(mut tls) = acceptor.accept(stream).await else { continue };
                let mut buf = vec![0u8; 65536];
                let n = tls.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or_default().to_owned();
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                let _ = tls.shutdown().await;
                let _ = tx.send(head);
            }
        });
    });
    (addr, rx)
}

#[test]
fn https_pushes_verify_the_gateway_certificate() {
    if !support::tool("openssl", "version") {
        return;
    }
    let c = support::certs();
    let (addr, seen) = tls_listener(&c);
    let url = format!("https://127.0.0.1:{}", addr.port());

    let trusted = PushgatewayConfig::builder(&url, "tls_job")
        .unwrap()
        .ca_file(c.join("ca.crt"))
        .interval(Duration::from_secs(3600));
    let m = get_metrics(Backend::Pushgateway(trusted.build().unwrap())).unwrap();
    m.counter("tls_pushed", "Pushed over TLS.").unwrap().inc();
    m.shutdown().unwrap();
    assert_eq!(seen.recv_timeout(Duration::from_secs(5)).unwrap(), "PUT /metrics/job/tls_job HTTP/1.1");

    let untrusted = PushgatewayConfig::builder(&url, "tls_job").unwrap().interval(Duration::from_secs(3600));
    let m = get_metrics(Backend::Pushgateway(untrusted.build().unwrap())).unwrap();
    let err = m.shutdown().unwrap_err().to_string();
    assert!(err.contains("pushgateway"), "{err}");
    assert!(seen.recv_timeout(Duration::from_millis(500)).is_err(), "a request went through an untrusted connection");
}
