//! Pushes go through a real forward proxy (Debian's tinyproxy, started by the project's
//! `proxy.sh`) to the real Pushgateway: plain HTTP in absolute form, HTTPS through a CONNECT
//! tunnel with TLS end to end, with and without proxy credentials, from explicit settings and
//! from `http_proxy`/`no_proxy`. The proxy's own log is the proof that a push went through it.
#![cfg(feature = "pushgateway")]

mod support;

use std::time::Duration;

use codomyrmex_metrics::{get_metrics, Backend, PushgatewayBuilder, PushgatewayConfig};
use support::proxy::Proxy;
use support::pushgateway::{Gateway, Listen};

fn push_once(b: PushgatewayBuilder, name: &str) -> Result<(), String> {
    let m = get_metrics(Backend::Pushgateway(b.interval(Duration::from_secs(3600)).build().unwrap())).unwrap();
    m.counter(name, "Pushed through a proxy.").unwrap().inc_by(7);
    m.shutdown().map_err(|e| e.to_string())
}

#[test]
fn plain_http_pushes_go_through_the_proxy_in_absolute_form() {
    let (Some(gw), Some(proxy)) = (Gateway::start(), Proxy::start(None)) else { return };
    let b = PushgatewayConfig::builder(&gw.url(), "via_proxy").unwrap().proxy(&proxy.url());
    push_once(b, "proxied_rows").unwrap();
    let line = gw.wait_for("proxied_rows_total", &["job=\"via_proxy\""]);
    assert!(line.ends_with(" 7"), "{line}");
    let log = proxy.log();
    let seen = format!("PUT http://127.0.0.1:{}/metrics/job/via_proxy HTTP/1.1", gw.port);
    assert!(log.contains(&seen), "the proxy did not carry the push; its log:\n{log}");
}

#[test]
fn https_pushes_tunnel_through_connect_with_tls_end_to_end() {
    let (Some(gw), Some(proxy)) = (Gateway::start_tls(Listen::Https), Proxy::start(None)) else { return };
    let b = PushgatewayConfig::builder(&gw.url(), "via_tunnel")
        .unwrap()
        .ca_file(support::certs().join("ca.crt"))
        .proxy(&proxy.url());
    push_once(b, "tunnelled_rows").unwrap();
    gw.wait_for("tunnelled_rows_total", &["job=\"via_tunnel\""]);
    let log = proxy.log();
    assert!(log.contains(&format!("CONNECT 127.0.0.1:{} HTTP/1.1", gw.port)), "no CONNECT in the proxy's log:\n{log}");
    assert!(!log.contains("/metrics/job/via_tunnel"), "the proxy saw the request inside the tunnel:\n{log}");
}

#[test]
fn proxy_credentials_are_required_sent_and_never_shown() {
    let (Some(gw), Some(proxy)) = (Gateway::start(), Proxy::start(Some(("pusher", "proxy-pass-7x9")))) else {
        return;
    };
    // Without credentials: 407, an error that says so and is not retried.
    let b = PushgatewayConfig::builder(&gw.url(), "needs_auth").unwrap().proxy(&proxy.url());
    let err = push_once(b, "refused_rows").unwrap_err();
    assert!(err.contains("proxy answered 407"), "{err}");
    assert!(gw.lines("refused_rows").is_empty());

    // From a password file, for HTTP and (through CONNECT) for HTTPS.
    let dir = std::env::temp_dir().join(format!("codomyrmex-proxy-pass-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("proxy-password");
    std::fs::write(&file, "proxy-pass-7x9\n").unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let b = PushgatewayConfig::builder(&gw.url(), "with_auth")
        .unwrap()
        .proxy(&proxy.url())
        .proxy_password_file("pusher", &file)
        .unwrap();
    let shown = format!("{b:?}");
    assert!(!shown.contains("proxy-pass-7x9"), "{shown}");
    push_once(b, "authorised_rows").unwrap();
    gw.wait_for("authorised_rows_total", &["job=\"with_auth\""]);

    // In the proxy URL's userinfo, as http_proxy often carries it: used, never shown.
    let url = format!("http://pusher:proxy-pass-7x9@127.0.0.1:{}", proxy.port);
    let b = PushgatewayConfig::builder(&gw.url(), "userinfo").unwrap().proxy(&url);
    let config = b.build().unwrap();
    assert!(!format!("{config:?}").contains("proxy-pass-7x9"), "{config:?}");
    push_once(PushgatewayConfig::builder(&gw.url(), "userinfo").unwrap().proxy(&url), "userinfo_rows").unwrap();
    gw.wait_for("userinfo_rows_total", &["job=\"userinfo\""]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_environment_names_the_proxy_and_no_proxy_bypasses_it() {
    let (Some(gw), Some(proxy)) = (Gateway::start(), Proxy::start(None)) else { return };
    let backend = format!("pushgateway://127.0.0.1:{}/job/from_env", gw.port);
    let env = |no_proxy: &'static str| {
        let (backend, proxy) = (backend.clone(), proxy.url());
        move |k: &str| match k {
            "CODOMYRMEX_METRICS_BACKEND" => Some(backend.clone()),
            "CODOMYRMEX_METRICS_PUSH_INTERVAL_SECONDS" => Some("3600".into()),
            "http_proxy" => Some(proxy.clone()),
            "no_proxy" => Some(no_proxy.into()),
            _ => None,
        }
    };
    for (no_proxy, name) in [("", "env_proxied_rows"), ("127.0.0.1", "env_direct_rows")] {
        let backend = Backend::from_env_with(env(no_proxy)).unwrap().unwrap();
        let m = get_metrics(backend).unwrap();
        m.counter(name, "Pushed.").unwrap().inc();
        m.shutdown().unwrap();
        gw.wait_for(&format!("{name}_total"), &["job=\"from_env\""]);
    }
    let log = proxy.log();
    assert_eq!(log.matches("/metrics/job/from_env").count(), 1, "one push through the proxy, one direct:\n{log}");
}
