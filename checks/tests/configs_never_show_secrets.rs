//! No `Debug` or `Display` of a configuration or an error carries a password or a token, in
//! any form: as text, or as the list of bytes a derived `Debug` prints for a `Vec<u8>`.

use codomyrmex_metrics::Backend;

const TOKEN: &str = "tok-3f9a7c1e5b2d8a4f";
const PASSWORD: &str = "pw-9d2c7b1a6e3f";

fn bytes_form(secret: &str) -> String {
    let list: Vec<String> = secret.bytes().map(|b| b.to_string()).collect();
    list.join(", ")
}

fn assert_clean(what: &str, text: &str) {
    for secret in [TOKEN, PASSWORD] {
        assert!(!text.contains(secret), "{what} shows a secret: {text}");
        assert!(!text.contains(&bytes_form(secret)), "{what} shows a secret's bytes: {text}");
        // Base64 of `user:password`, as a Basic header carries it.
        assert!(!text.contains("OnB3LTlkMmM3YjFh"), "{what} shows a Basic credential: {text}");
    }
}

#[cfg(feature = "prometheus")]
#[test]
fn scrape_endpoint_configs() {
    use codomyrmex_metrics::PrometheusConfig;
    let config = PrometheusConfig::builder()
        .bearer_token(TOKEN)
        .unwrap()
        .basic_auth("scraper", PASSWORD)
        .unwrap()
        .build()
        .unwrap();
    assert_clean("PrometheusConfig", &format!("{config:?}"));
    assert_clean("Backend", &format!("{:?}", Backend::Prometheus(config)));
    let short = PrometheusConfig::builder().basic_auth("scraper", "short").unwrap_err();
    assert!(!short.to_string().contains("short\""), "{short}");
}

#[cfg(feature = "pushgateway")]
#[test]
fn pushgateway_configs() {
    use codomyrmex_metrics::PushgatewayConfig;
    let basic = PushgatewayConfig::builder("http://127.0.0.1:9091", "job").unwrap().basic_auth("pusher", PASSWORD);
    assert_clean("PushgatewayBuilder", &format!("{basic:?}"));
    assert_clean("PushgatewayConfig", &format!("{:?}", basic.build().unwrap()));
    let bearer = PushgatewayConfig::builder("http://127.0.0.1:9091", "job").unwrap().bearer_token(TOKEN);
    assert_clean("PushgatewayConfig", &format!("{:?}", bearer.build().unwrap()));
    let err = PushgatewayConfig::builder(&format!("https://u:{PASSWORD}@gw.example:9091"), "job").unwrap_err();
    assert_clean("ConfigError", &format!("{err} {err:?}"));
}

#[cfg(feature = "pushgateway")]
#[test]
fn proxy_credentials() {
    use codomyrmex_metrics::PushgatewayConfig;
    let gw = || PushgatewayConfig::builder("http://127.0.0.1:9091", "job").unwrap();
    for b in [
        gw().proxy(&format!("http://user:{PASSWORD}@proxy.internal:3128")),
        gw().proxy("http://proxy.internal:3128").proxy_credentials("user", PASSWORD),
        gw().proxy_credentials("user", TOKEN),
    ] {
        assert_clean("PushgatewayBuilder", &format!("{b:?}"));
        let config = b.build().unwrap();
        assert_clean("PushgatewayConfig", &format!("{config:?}"));
        assert_clean("Backend", &format!("{:?}", Backend::Pushgateway(config)));
    }
    // A proxy URL that is refused: the error does not repeat it.
    for bad in [format!("socks5://user:{PASSWORD}@proxy:1080"), format!("http://user:{PASSWORD}@proxy:1080/path")] {
        let err = gw().proxy(&bad).build().unwrap_err();
        assert_clean("ConfigError", &format!("{err} {err:?}"));
    }
    // From the environment too.
    let env = |k: &str| match k {
        "CODOMYRMEX_METRICS_BACKEND" => Some("pushgateway://127.0.0.1:9091/job/x".to_owned()),
        "https_proxy" | "http_proxy" => Some(format!("http://user:{PASSWORD}@proxy.internal:3128")),
        _ => None,
    };
    let backend = Backend::from_env_with(env).unwrap().unwrap();
    assert_clean("Backend from the environment", &format!("{backend:?}"));
}

#[test]
fn url_errors() {
    for url in [
        format!("prometheus://u:{PASSWORD}@127.0.0.1:9464"),
        format!("pushgateway://u:{PASSWORD}@gw:9091/job/x"),
        format!("statsd://u:{PASSWORD}@127.0.0.1:8125"),
        format!("bogus://{TOKEN}"),
        format!("prometheus://127.0.0.1:9464/?token={TOKEN}"),
    ] {
        if let Err(e) = Backend::from_url(&url) {
            assert_clean("ConfigError", &format!("{e} {e:?}"));
        }
    }
}
