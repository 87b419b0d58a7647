//! The OpenTelemetry environment variables, and the `otlp+http://` / `otlp+https://` URL forms.
//! A metrics-specific variable takes precedence over its general form, as the specification
//! says; `OTEL_EXPORTER_OTLP_ENDPOINT` is a base to which `/v1/metrics` is added, while
//! `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` is used as it is.

use std::time::Duration;

use super::config::{OtlpBuilder, OtlpCompression, OtlpConfig, OtlpProtocol, Temporality, METRICS_PATH};
use crate::backend::outbound::{env_allowed_hosts, env_pins, ENV_ALLOWED_BACKEND_HOSTS};
use crate::error::ConfigError;

/// Base endpoint for every signal (`/v1/metrics` is added).
pub const ENV_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The metrics endpoint, used as it is.
pub const ENV_OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
/// Headers, `name=value,…` with percent-encoded values (`_METRICS_HEADERS` takes precedence).
pub const ENV_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// Timeout of one request in milliseconds (`_METRICS_TIMEOUT` takes precedence).
pub const ENV_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// `gzip` or `none` (`_METRICS_COMPRESSION` takes precedence).
pub const ENV_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// `http/protobuf` (`_METRICS_PROTOCOL` takes precedence).
pub const ENV_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// A PEM file of CA certificates for the receiver (`_METRICS_CERTIFICATE` takes precedence).
pub const ENV_OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// A PEM client certificate, for mTLS (`_METRICS_CLIENT_CERTIFICATE` takes precedence).
pub const ENV_OTLP_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
/// The client certificate's PEM key (`_METRICS_CLIENT_KEY` takes precedence).
pub const ENV_OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
/// `cumulative`, `delta` or `lowmemory`.
pub const ENV_OTLP_TEMPORALITY_PREFERENCE: &str = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
/// The export interval in milliseconds.
pub const ENV_OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
/// The `service.name` resource attribute (over one in `OTEL_RESOURCE_ATTRIBUTES`).
pub const ENV_OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// Resource attributes, `key=value,…` with percent-encoded values.
pub const ENV_OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";

/// SHA-256 pins of the receiver's public key (base64, comma-separated): this crate's own
/// variable, as for the other clients.
pub const ENV_OTLP_PIN_SHA256: &str = "CODOMYRMEX_METRICS_OTLP_PIN_SHA256";

/// The specification's default endpoints.
const DEFAULT_ENDPOINT: &str = "http://localhost:4318";
const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";

/// The protocol `OTEL_EXPORTER_OTLP_(METRICS_)PROTOCOL` names.
fn protocol(lookup: &dyn Fn(&str) -> Option<String>) -> Result<OtlpProtocol, ConfigError> {
    match get(lookup, ENV_OTLP_PROTOCOL) {
        None => Ok(OtlpProtocol::HttpProtobuf),
        Some((var, text)) => match text.as_str() {
            "http/protobuf" => Ok(OtlpProtocol::HttpProtobuf),
            #[cfg(feature = "otlp-grpc")]
            "grpc" => Ok(OtlpProtocol::Grpc),
            #[cfg(not(feature = "otlp-grpc"))]
            "grpc" => Err(env_error(var, "grpc needs the `otlp-grpc` cargo feature")),
            other => Err(env_error(var, format!("{other:?}: expected http/protobuf or grpc"))),
        },
    }
}

/// The metrics-specific form of a general variable, else the general one; empty counts as unset.
fn get(lookup: &dyn Fn(&str) -> Option<String>, general: &'static str) -> Option<(&'static str, String)> {
    let specific: &'static str = match general {
        ENV_OTLP_HEADERS => "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
        ENV_OTLP_TIMEOUT => "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
        ENV_OTLP_COMPRESSION => "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
        ENV_OTLP_PROTOCOL => "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        ENV_OTLP_CERTIFICATE => "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE",
        ENV_OTLP_CLIENT_CERTIFICATE => "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
        ENV_OTLP_CLIENT_KEY => "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
        other => other,
    };
    [specific, general]
        .into_iter()
        .find_map(|name| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).map(|v| (name, v)))
}

fn env_error(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Env { var, reason: reason.into() }
}

/// Percent-decodes `%XX` sequences (the W3C baggage encoding the variables use); other bytes
/// stay. `None` when the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| char::from(c).to_digit(16);
        match (b[i], b.get(i + 1).copied().and_then(hex), b.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `key=value,…` pairs, values percent-decoded. Errors name no value (they can be keys).
fn pairs(var: &'static str, text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').ok_or_else(|| env_error(var, "each entry must be key=value"))?;
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() {
                return Err(env_error(var, "an entry has an empty key"));
            }
            let v = percent_decode(v)
                .ok_or_else(|| env_error(var, format!("the value of {k:?} is not UTF-8 once decoded")))?;
            Ok((k.to_owned(), v))
        })
        .collect()
}

/// Milliseconds, as the variables give durations.
fn millis(var: &'static str, text: &str) -> Result<Duration, ConfigError> {
    text.parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| env_error(var, format!("{text:?} is not a whole number of milliseconds")))
}

/// The resource attributes the environment gives: `OTEL_RESOURCE_ATTRIBUTES`, then
/// `OTEL_SERVICE_NAME` over its `service.name`.
pub(crate) fn resource(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = match get(lookup, ENV_OTEL_RESOURCE_ATTRIBUTES) {
        Some((var, text)) => pairs(var, &text)?,
        None => Vec::new(),
    };
    if let Some((_, name)) = get(lookup, ENV_OTEL_SERVICE_NAME) {
        out.retain(|(k, _)| k != "service.name");
        out.push(("service.name".into(), name));
    }
    Ok(out)
}

impl OtlpConfig {
    /// The exporter the OpenTelemetry variables describe (see the `ENV_OTLP_*` and `ENV_OTEL_*`
    /// constants); unset ones keep the builder's defaults, and with no endpoint set it sends to
    /// `http://localhost:4318/v1/metrics`.
    ///
    /// # Errors
    /// [`ConfigError::Env`] naming the variable, for a value that cannot be used.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_with(&|k| std::env::var(k).ok())
    }

    /// [`Self::from_env`], reading variables through `lookup`.
    ///
    /// # Errors
    /// As [`Self::from_env`].
    pub fn from_env_with(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let protocol = protocol(lookup)?;
        let grpc = protocol != OtlpProtocol::HttpProtobuf;
        let builder = match get(lookup, ENV_OTLP_METRICS_ENDPOINT) {
            Some((var, url)) => OtlpConfig::builder(&url).map_err(|e| env_error(var, e.to_string()))?,
            None => {
                let default = if grpc { DEFAULT_GRPC_ENDPOINT } else { DEFAULT_ENDPOINT };
                let (var, base) = get(lookup, ENV_OTLP_ENDPOINT).unwrap_or((ENV_OTLP_ENDPOINT, default.into()));
                // gRPC has one path, its service's; HTTP's general endpoint gets the signal's.
                let url = if grpc { base } else { format!("{}{METRICS_PATH}", base.trim_end_matches('/')) };
                OtlpConfig::builder(&url).map_err(|e| env_error(var, e.to_string()))?
            }
        };
        apply_env(builder.protocol(protocol), lookup)?.build()
    }
}

/// The variables other than the endpoint, on `b` (also what an `otlp+http://` URL gets).
pub(crate) fn apply_env(
    mut b: OtlpBuilder,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<OtlpBuilder, ConfigError> {
    for (k, v) in resource(lookup)? {
        b = b.resource_attribute(&k, &v);
    }
    if let Some((var, text)) = get(lookup, ENV_OTLP_HEADERS) {
        for (k, v) in pairs(var, &text)? {
            b = b.header(&k, &v);
        }
    }
    if let Some((var, text)) = get(lookup, ENV_OTLP_TIMEOUT) {
        b = b.timeout(millis(var, &text)?);
    }
    if let Some((var, text)) = get(lookup, ENV_OTLP_COMPRESSION) {
        b = b.compression(match text.to_ascii_lowercase().as_str() {
            "gzip" => OtlpCompression::Gzip,
            "none" => OtlpCompression::None,
            other => return Err(env_error(var, format!("{other:?}: expected gzip or none"))),
        });
    }
    // Checked here too (a URL's scheme has chosen the protocol already).
    protocol(lookup)?;
    if let Some((var, text)) = get(lookup, ENV_OTLP_TEMPORALITY_PREFERENCE) {
        b = b.temporality(match text.to_ascii_lowercase().as_str() {
            "cumulative" => Temporality::Cumulative,
            "delta" => Temporality::Delta,
            "lowmemory" => Temporality::LowMemory,
            other => return Err(env_error(var, format!("{other:?}: expected cumulative, delta or lowmemory"))),
        });
    }
    if let Some((var, text)) = get(lookup, ENV_OTEL_METRIC_EXPORT_INTERVAL) {
        b = b.interval(millis(var, &text)?);
    }
    if let Some((_, path)) = get(lookup, ENV_OTLP_CERTIFICATE) {
        b = b.ca_file(path);
    }
    match (get(lookup, ENV_OTLP_CLIENT_CERTIFICATE), get(lookup, ENV_OTLP_CLIENT_KEY)) {
        (Some((_, cert)), Some((_, key))) => b = b.client_cert(cert, key),
        (None, None) => {}
        (Some((var, _)), None) | (None, Some((var, _))) => {
            return Err(env_error(var, "a client certificate and its key are set together"))
        }
    }
    b = b.proxy_from(lookup);
    if let Some(pins) = lookup(ENV_OTLP_PIN_SHA256).filter(|v| !v.trim().is_empty()) {
        let _pins = env_pins(ENV_OTLP_PIN_SHA256, &pins)?;
        #[cfg(feature = "tls")]
        {
            b = b.pin_sha256(_pins);
        }
    }
    if let Some(hosts) = lookup(ENV_ALLOWED_BACKEND_HOSTS).filter(|v| !v.trim().is_empty()) {
        let host = b.host().to_owned();
        b = b.allowed_hosts(env_allowed_hosts(&hosts, &host)?);
    }
    Ok(b)
}

/// The config an `otlp+http://HOST:PORT[/PATH]`, `otlp+https://…`, `otlp+grpc://HOST:PORT` or
/// `otlp+grpcs://…` URL names, with the other OpenTelemetry variables applied.
pub(crate) fn config_from_url(url: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<OtlpConfig, ConfigError> {
    apply_env(OtlpConfig::builder(url)?, lookup)?.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn the_metrics_variables_take_precedence() {
        let vars = [
            (ENV_OTLP_ENDPOINT, "http://general:4318"),
            (ENV_OTLP_METRICS_ENDPOINT, "http://specific:9000/custom"),
            (ENV_OTLP_TIMEOUT, "1000"),
            ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "2500"),
            (ENV_OTLP_HEADERS, "a=1"),
            ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "b=x%20y"),
        ];
        let c = OtlpConfig::from_env_with(&env(&vars)).unwrap();
        assert_eq!(c.endpoint(), "http://specific:9000/custom");
        assert_eq!(c.timeout, Duration::from_millis(2500));
        assert_eq!(c.headers, vec![("b".to_owned(), "x y".to_owned())]);
    }

    #[test]
    fn the_general_endpoint_gets_the_signal_path() {
        let c = OtlpConfig::from_env_with(&env(&[(ENV_OTLP_ENDPOINT, "http://collector:4318/")])).unwrap();
        assert_eq!(c.endpoint(), "http://collector:4318/v1/metrics");
        let c = OtlpConfig::from_env_with(&env(&[])).unwrap();
        assert_eq!(c.endpoint(), "http://localhost:4318/v1/metrics");
    }

    #[test]
    fn resource_variables_and_service_name() {
        let vars = [(ENV_OTEL_RESOURCE_ATTRIBUTES, "service.name=a,team=pay%2Cments"), (ENV_OTEL_SERVICE_NAME, "b")];
        let r = resource(&env(&vars)).unwrap();
        assert_eq!(r, vec![("team".to_owned(), "pay,ments".to_owned()), ("service.name".to_owned(), "b".to_owned())]);
    }

    #[test]
    fn bad_values_name_the_variable_and_never_the_secret() {
        let cases = [
            (ENV_OTLP_HEADERS, "no-equals-sign-s3cr3t"),
            (ENV_OTLP_TIMEOUT, "soon"),
            (ENV_OTLP_COMPRESSION, "zstd"),
            (ENV_OTLP_PROTOCOL, "http/json"),
            (ENV_OTLP_TEMPORALITY_PREFERENCE, "sometimes"),
            (ENV_OTLP_CLIENT_KEY, "/k.pem"),
        ];
        for (var, value) in cases {
            let err = OtlpConfig::from_env_with(&env(&[(var, value)])).unwrap_err().to_string();
            assert!(err.contains(var) || err.contains("OTEL_EXPORTER_OTLP"), "{var}: {err}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
        let err = OtlpConfig::from_env_with(&env(&[(ENV_OTLP_HEADERS, "api-key=s3cr3t\u{1}")])).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
    }
}
