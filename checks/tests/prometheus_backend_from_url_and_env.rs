//! `prometheus://` and `prometheus+tls://` URLs, and the environment variables they read.
#![cfg(all(feature = "prometheus", feature = "tls"))]

mod support;

use std::collections::HashMap;

use codomyrmex_metrics::{Backend, ConfigError};

fn parse(url: &str, env: &[(&str, &str)]) -> Result<Backend, ConfigError> {
    let env: HashMap<String, String> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Backend::from_url_with(url, &|k| env.get(k).cloned())
}

fn addr_and_debug(b: &Backend) -> String {
    match b {
        Backend::Prometheus(c) => format!("{:?}", c.local_addr()),
        other => panic!("not a Prometheus backend: {other:?}"),
    }
}

#[test]
fn plain_urls_give_an_address_and_path() {
    assert_eq!(addr_and_debug(&parse("prometheus://127.0.0.1:9100/m", &[]).unwrap()), "Some(127.0.0.1:9100)");
    assert_eq!(addr_and_debug(&parse("prometheus://localhost", &[]).unwrap()), "Some(127.0.0.1:9464)");
    assert_eq!(addr_and_debug(&parse("prometheus://[::1]:9200", &[]).unwrap()), "Some([::1]:9200)");
}

#[test]
fn urls_never_carry_secrets_or_host_names() {
    let err = parse("prometheus://scraper:hunter2@127.0.0.1:9464", &[]).unwrap_err().to_string();
    assert!(err.contains("CODOMYRMEX_METRICS_BASIC_AUTH_FILE") && !err.contains("hunter2"), "{err}");
    assert!(parse("prometheus://127.0.0.1:9464/?token=x", &[]).is_err());
    assert!(parse("prometheus://metrics.example.com:9464", &[]).unwrap_err().to_string().contains("not an IP address"));
}

#[test]
fn a_public_address_needs_auth_tls_or_the_explicit_variable() {
    let err = parse("prometheus://0.0.0.0:9464", &[]).unwrap_err().to_string();
    assert!(err.contains("not a loopback address"), "{err}");
    assert!(
        parse("prometheus://0.0.0.0:9464", &[("CODOMYRMEX_METRICS_ALLOW_UNAUTHENTICATED_PUBLIC_BIND", "true")]).is_ok()
    );
    let dir = std::env::temp_dir().join(format!("codomyrmex-url-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token = dir.join("token");
    std::fs::write(&token, "a-bearer-token-from-a-file\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(parse("prometheus://0.0.0.0:9464", &[("CODOMYRMEX_METRICS_BEARER_TOKEN_FILE", token.to_str().unwrap())])
        .is_ok());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tls_urls_need_certificate_and_key_variables() {
    let err = parse("prometheus+tls://127.0.0.1:9464", &[]).unwrap_err().to_string();
    assert!(err.contains("CODOMYRMEX_METRICS_TLS_CERT"), "{err}");
    if !support::tool("openssl", "version") {
        return;
    }
    let c = support::certs();
    let (crt, key, ca) = (c.join("server.crt"), c.join("server.key"), c.join("ca.crt"));
    let env = [
        ("CODOMYRMEX_METRICS_TLS_CERT", crt.to_str().unwrap()),
        ("CODOMYRMEX_METRICS_TLS_KEY", key.to_str().unwrap()),
        ("CODOMYRMEX_METRICS_TLS_CLIENT_CA", ca.to_str().unwrap()),
        ("CODOMYRMEX_METRICS_TLS_CLIENT_NAMES", "e2e-client"),
    ];
    assert!(parse("prometheus+tls://0.0.0.0:9464/metrics", &env).is_ok());
    let err = parse("prometheus+tls://127.0.0.1:9464", &env[1..]).unwrap_err();
    assert!(matches!(err, ConfigError::Env { var: "CODOMYRMEX_METRICS_TLS_CERT", .. }), "{err}");
}
