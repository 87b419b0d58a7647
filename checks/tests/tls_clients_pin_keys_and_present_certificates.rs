//! The outbound TLS clients against real servers: the Pushgateway (Debian's, HTTPS and mutual
//! TLS through its web config) and the StatsD daemon behind stunnel4. A pin (SHA-256 of the
//! server's SubjectPublicKeyInfo, computed here by openssl, independently of the crate) that
//! matches lets the data through; one that does not is refused and counted; a pin never
//! replaces verification. The Pushgateway client presents its certificate when configured.
#![cfg(all(feature = "pushgateway", feature = "statsd", feature = "tls"))]

mod support;

use std::process::Command;
use std::time::Duration;

use codomyrmex_metrics::{get_metrics, Backend, PushgatewayBuilder, PushgatewayConfig, StatsdBuilder, StatsdConfig};
use codomyrmex_metrics::{PushEvent, StatsdEvent};
use support::pushgateway::{Gateway, Listen};
use support::statsd::Statsd;

/// The HPKP / `curl --pinnedpubkey` recipe: SHA-256 of the DER SubjectPublicKeyInfo, base64.
fn openssl_pin(cert: &std::path::Path) -> String {
    let script = format!(
        "openssl x509 -in {} -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
        cert.display()
    );
    let out = Command::new("bash").arg("-c").arg(script).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// One push at shutdown; the error text and the pin mismatches counted.
fn push(b: PushgatewayBuilder, name: &str) -> (Result<(), String>, u64) {
    let m = get_metrics(Backend::Pushgateway(b.interval(Duration::from_secs(3600)).build().unwrap())).unwrap();
    m.counter(name, "Pushed over TLS.").unwrap().inc_by(3);
    let r = m.shutdown().map_err(|e| e.to_string());
    (r, m.self_metrics().get(PushEvent::PinMismatch))
}

#[test]
fn pushgateway_pins_are_checked_on_top_of_verification() {
    if !support::tool("openssl", "version") {
        return;
    }
    let Some(gw) = Gateway::start_tls(Listen::Https) else { return };
    let certs = support::certs();
    let (right, wrong) = (openssl_pin(&certs.join("server.crt")), openssl_pin(&certs.join("rogue.crt")));
    let with_ca = || PushgatewayConfig::builder(&gw.url(), "pinned").unwrap().ca_file(certs.join("ca.crt"));

    let (ok, mismatches) = push(with_ca().pin_sha256([wrong.as_str(), right.as_str()]), "pinned_rows");
    assert_eq!((ok, mismatches), (Ok(()), 0), "one of two pins matches (a key rotation)");
    gw.wait_for("pinned_rows_total", &["job=\"pinned\""]);

    let (err, mismatches) = push(with_ca().pin_sha256([wrong.as_str()]), "mispinned_rows");
    let err = err.unwrap_err();
    assert!(err.contains("matches no configured pin"), "{err}");
    assert_eq!(mismatches, 1, "refused once, not retried");
    assert!(gw.lines("mispinned_rows").is_empty());

    // The right pin without a trusted CA: verification still fails; the pin is no shortcut.
    let b = PushgatewayConfig::builder(&gw.url(), "pinned").unwrap().pin_sha256([right.as_str()]);
    let (err, mismatches) = push(b, "unverified_rows");
    assert!(err.unwrap_err().contains("TLS with the Pushgateway failed"));
    assert_eq!(mismatches, 0);
    assert!(gw.lines("unverified_rows").is_empty());
}

#[test]
fn pushgateway_client_certificates_are_presented_for_mutual_tls() {
    let Some(gw) = Gateway::start_tls(Listen::MutualTls) else { return };
    let certs = support::certs();
    let b = || PushgatewayConfig::builder(&gw.url(), "mtls").unwrap().ca_file(certs.join("ca.crt"));
    let (anonymous, _) = push(b(), "anonymous_rows");
    assert!(anonymous.is_err(), "the gateway requires a client certificate");
    let (rogue, _) = push(b().client_cert(certs.join("rogue.crt"), certs.join("rogue.key")), "rogue_rows");
    assert!(rogue.is_err(), "a certificate the CA did not sign is refused");
    let (ok, _) = push(b().client_cert(certs.join("client.crt"), certs.join("client.key")), "mtls_rows");
    ok.unwrap();
    gw.wait_for("mtls_rows_total", &["job=\"mtls\""]);
    assert!(gw.lines("anonymous_rows").is_empty() && gw.lines("rogue_rows").is_empty());

    // A client key readable by others is refused at build, as every secret file is.
    let dir = std::env::temp_dir().join(format!("codomyrmex-open-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let open_key = dir.join("client.key");
    std::fs::copy(certs.join("client.key"), &open_key).unwrap();
    std::fs::set_permissions(&open_key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let err = b().client_cert(certs.join("client.crt"), &open_key).build().unwrap_err().to_string();
    assert!(err.contains("readable by group or others") || err.contains("chmod"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

fn statsd_send(builder: StatsdBuilder, key: &str) -> u64 {
    let config = builder
        .flush_interval(Duration::from_millis(50))
        .backoff(Duration::from_millis(20), Duration::from_millis(100))
        .shutdown_budget(Duration::from_millis(500))
        .build()
        .unwrap();
    let m = get_metrics(Backend::Statsd(config)).unwrap();
    m.counter(key, "Test.").unwrap().inc_by(4);
    std::thread::sleep(Duration::from_millis(300));
    m.shutdown().unwrap();
    m.self_metrics().get(StatsdEvent::PinMismatch)
}

#[test]
fn statsd_pins_are_checked_on_top_of_verification() {
    if !support::tool("openssl", "version") {
        return;
    }
    let Some(server) = Statsd::start(false) else { return };
    let certs = support::certs();
    let (right, wrong) = (openssl_pin(&certs.join("server.crt")), openssl_pin(&certs.join("rogue.crt")));
    let tls = || StatsdConfig::tls(format!("127.0.0.1:{}", server.tls)).ca_file(certs.join("ca.crt"));
    assert_eq!(statsd_send(tls().pin_sha256([right.as_str()]), "pinned"), 0);
    assert!(statsd_send(tls().pin_sha256([wrong.as_str()]), "mispinned") >= 1, "the mismatch is counted");
    let dump = server.dump();
    assert_eq!(Statsd::counter(&dump, "pinned"), 4.0, "{dump:#}");
    assert_eq!(Statsd::counter(&dump, "mispinned"), 0.0, "{dump:#}");
}

#[test]
fn pins_are_checked_when_configured() {
    let e = PushgatewayConfig::builder("https://127.0.0.1:1", "j").unwrap().pin_sha256(["not-a-pin"]).build();
    assert!(e.unwrap_err().to_string().contains("pin_sha256"));
    let e = PushgatewayConfig::builder("http://127.0.0.1:1", "j")
        .unwrap()
        .pin_sha256(["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="])
        .build();
    assert!(e.unwrap_err().to_string().contains("https"), "a pin on plain HTTP would protect nothing");
    let e = StatsdConfig::udp("127.0.0.1:8125").pin_sha256(["47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="]).build();
    assert!(e.unwrap_err().to_string().contains("TLS"));
}
