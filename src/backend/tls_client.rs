//! TLS client settings shared by the Pushgateway and StatsD clients: rustls with the ring
//! provider, TLS 1.2 and 1.3 only, the server verified against the system's roots or a given
//! CA, and an optional client certificate (its key file checked like every secret file).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::error::ConfigError;

/// The certificates of a PEM file as trust roots; an error when it holds none.
pub(crate) fn load_roots(setting: &'static str, path: &Path) -> Result<RootCertStore, ConfigError> {
    let bad = |reason: String| ConfigError::Invalid { setting, reason };
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read {}: {}", path.display(), e.kind())))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|_| bad(format!("{} is not PEM", path.display())))?;
        roots.add(cert).map_err(|_| bad(format!("{} holds an unusable certificate", path.display())))?;
    }
    if roots.is_empty() {
        return Err(bad(format!("{} holds no certificate", path.display())));
    }
    Ok(roots)
}

/// A PEM certificate chain; an error when it holds none.
pub(crate) fn load_cert_chain(setting: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, ConfigError> {
    let bad = |reason: String| ConfigError::Invalid { setting, reason };
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read {}: {}", path.display(), e.kind())))?;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|_| bad(format!("{} is not a PEM certificate chain", path.display())))?;
    if chain.is_empty() {
        return Err(bad(format!("{} holds no certificate", path.display())));
    }
    Ok(chain)
}

/// Builds a client configuration; `setting` names it in errors. With `pins`, the server's
/// public key must match one of them besides passing normal verification.
#[cfg(any(feature = "pushgateway", feature = "statsd", feature = "otlp"))]
pub(crate) fn client_config(
    setting: &'static str,
    ca_file: Option<&Path>,
    client_cert: Option<&(PathBuf, PathBuf)>,
    secrets: crate::backend::SecretFilePolicy,
    pins: &crate::backend::outbound::pin::Pins,
) -> Result<Arc<rustls::ClientConfig>, ConfigError> {
    use crate::backend::secret_file::read_secret;
    use rustls_pki_types::PrivateKeyDer;
    let bad = |reason: String| ConfigError::Invalid { setting, reason };
    let roots = match ca_file {
        Some(path) => load_roots(setting, path)?,
        None => {
            let mut roots = RootCertStore::empty();
            for cert in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(cert);
            }
            roots
        }
    };
    if roots.is_empty() {
        return Err(bad("no trusted root certificates (give ca_file)".into()));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| bad(e.to_string()))?;
    let builder = if pins.is_empty() {
        versions.with_root_certificates(roots)
    } else {
        use crate::backend::outbound::pin::PinnedVerifier;
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| bad(e.to_string()))?;
        versions.dangerous().with_custom_certificate_verifier(Arc::new(PinnedVerifier::new(verifier, pins.clone())))
    };
    let config = match client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = load_cert_chain(setting, cert)?;
            let key_pem = read_secret(key, setting, secrets)?;
            let key = PrivateKeyDer::from_pem_slice(&key_pem)
                .map_err(|_| bad(format!("{} is not a PEM private key", key.display())))?;
            builder.with_client_auth_cert(chain, key).map_err(|e| bad(format!("client certificate: {e}")))?
        }
    };
    Ok(Arc::new(config))
}
