//! A builder's setters work in any order: what depends on another setting is settled in
//! `build()`. Two orders once silently did nothing: `client_ca` before `tls`, and
//! `secret_file_policy` after the file setting it was meant for.
#![cfg(all(unix, any(feature = "prometheus", feature = "pushgateway")))]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

fn token_file(mode: u32) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("codomyrmex-order-{}-{mode:o}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("token");
    std::fs::write(&file, "a-long-enough-token-value\n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
    file
}

#[cfg(feature = "prometheus")]
#[test]
fn the_secret_file_policy_applies_whichever_comes_first() {
    use codomyrmex_metrics::{PrometheusConfig, SecretFilePolicy};
    let loose = token_file(0o644);
    let before = PrometheusConfig::builder().secret_file_policy(SecretFilePolicy::Warn).bearer_token_file(&loose);
    assert!(before.unwrap().build().is_ok());
    let after =
        PrometheusConfig::builder().bearer_token_file(&loose).unwrap().secret_file_policy(SecretFilePolicy::Warn);
    assert!(after.build().is_ok(), "the policy given after the file applies to it");
    let refused = PrometheusConfig::builder().bearer_token_file(&loose).unwrap().build().unwrap_err().to_string();
    assert!(refused.contains("chmod 600") && !refused.contains("a-long-enough"), "{refused}");
}

#[cfg(feature = "pushgateway")]
#[test]
fn the_pushgateway_secret_policy_applies_whichever_comes_first() {
    use codomyrmex_metrics::{PushgatewayConfig, SecretFilePolicy};
    let loose = token_file(0o640);
    let after = PushgatewayConfig::builder("https://gw.example:9091", "job")
        .unwrap()
        .bearer_token_file(&loose)
        .unwrap()
        .secret_file_policy(SecretFilePolicy::Warn);
    assert!(after.build().is_ok());
    let refused = PushgatewayConfig::builder("https://gw.example:9091", "job").unwrap().bearer_token_file(&loose);
    assert!(refused.unwrap().build().is_err());
}

#[cfg(all(feature = "prometheus", feature = "tls"))]
#[test]
fn mtls_settings_apply_before_or_after_tls() {
    use codomyrmex_metrics::PrometheusConfig;
    let c = support::certs();
    let (cert, key, ca) = (c.join("server.crt"), c.join("server.key"), c.join("ca.crt"));
    let tls_last =
        PrometheusConfig::builder().client_ca(&ca).allowed_client_names(["scraper"]).tls(&cert, &key).build().unwrap();
    let tls_first =
        PrometheusConfig::builder().tls(&cert, &key).allowed_client_names(["scraper"]).client_ca(&ca).build().unwrap();
    assert_eq!(format!("{tls_last:?}"), format!("{tls_first:?}"));
    assert!(format!("{tls_last:?}").contains("ca.crt"), "the client CA was kept: {tls_last:?}");
    let err = PrometheusConfig::builder().client_ca(&ca).build().unwrap_err().to_string();
    assert!(err.contains("needs tls"), "{err}");
}
