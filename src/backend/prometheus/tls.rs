//! TLS for the endpoint: rustls (ring provider), TLS 1.2 and 1.3 only, the certificate and key
//! reloaded when their files change, optional mTLS with a client CA and allowed names.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use parking_lot::RwLock;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig, ServerConnection};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{PrivateKeyDer, ServerName};

use super::config::TlsSettings;
use crate::backend::secret_file::{read_secret, SecretFilePolicy};
use crate::backend::tls_client::load_cert_chain;
use crate::error::ConfigError;

/// How often a handshake may look at the files' modification times.
const RELOAD_CHECK: Duration = Duration::from_secs(1);

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn bad(setting: &'static str, reason: String) -> ConfigError {
    ConfigError::Invalid { setting, reason }
}

fn load_key(
    t: &TlsSettings,
    policy: SecretFilePolicy,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, ConfigError> {
    let certs = load_cert_chain("tls", &t.cert)?;
    let key_pem = read_secret(&t.key, "tls", policy)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem)
        .map_err(|_| bad("tls", format!("{} is not a PEM private key", t.key.display())))?;
    let signing = provider
        .key_provider
        .load_private_key(key)
        .map_err(|_| bad("tls", format!("the key in {} is not supported", t.key.display())))?;
    Ok(Arc::new(CertifiedKey::new(certs, signing)))
}

fn load_roots(ca: &Path) -> Result<RootCertStore, ConfigError> {
    crate::backend::tls_client::load_roots("client_ca", ca)
}

/// Checks at build time that the files load.
pub(crate) fn check_files(t: &TlsSettings, policy: SecretFilePolicy) -> Result<(), ConfigError> {
    load_key(t, policy, &provider())?;
    if let Some(ca) = &t.client_ca {
        load_roots(ca)?;
    }
    Ok(())
}

fn mtimes(t: &TlsSettings) -> Mtimes {
    let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (m(&t.cert), m(&t.key))
}

/// Serves the current certificate; at most once a second, reloads it if the files changed.
/// A reload that fails keeps the old certificate and logs a warning.
#[derive(Debug)]
struct Reloading {
    settings: TlsSettings,
    policy: SecretFilePolicy,
    provider: Arc<CryptoProvider>,
    state: RwLock<Loaded>,
}

/// Modification times of the certificate and key files.
type Mtimes = (Option<SystemTime>, Option<SystemTime>);

/// The key in use, the files' times when it was loaded, and when they were last looked at.
type Loaded = (Arc<CertifiedKey>, Mtimes, Instant);

impl ResolvesServerCert for Reloading {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let due = self.state.read().2.elapsed() >= RELOAD_CHECK;
        if due {
            let now = mtimes(&self.settings);
            let mut state = self.state.write();
            state.2 = Instant::now();
            if now != state.1 {
                match load_key(&self.settings, self.policy, &self.provider) {
                    Ok(key) => {
                        tracing::info!(cert = %self.settings.cert.display(), "TLS certificate reloaded");
                        *state = (key, now, Instant::now());
                    }
                    Err(e) => tracing::warn!(error = %e, "TLS certificate reload failed; keeping the current one"),
                }
            }
        }
        Some(Arc::clone(&self.state.read().0))
    }
}

/// The acceptor for the endpoint.
pub(crate) fn acceptor(t: &TlsSettings, policy: SecretFilePolicy) -> Result<tokio_rustls::TlsAcceptor, ConfigError> {
    let provider = provider();
    let key = load_key(t, policy, &provider)?;
    let resolver = Reloading {
        settings: t.clone(),
        policy,
        provider: Arc::clone(&provider),
        state: RwLock::new((key, mtimes(t), Instant::now())),
    };
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| bad("tls", e.to_string()))?;
    let builder = match &t.client_ca {
        Some(ca) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(load_roots(ca)?), provider)
                .build()
                .map_err(|e| bad("client_ca", e.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// With allowed names set, the client certificate must be valid for one of them.
pub(crate) fn client_name_allowed(conn: &ServerConnection, names: &[String]) -> bool {
    if names.is_empty() {
        return true;
    }
    let Some(cert) = conn.peer_certificates().and_then(|c| c.first()) else { return false };
    let Ok(end_entity) = webpki::EndEntityCert::try_from(cert) else { return false };
    names.iter().any(|n| {
        ServerName::try_from(n.as_str()).is_ok_and(|name| end_entity.verify_is_valid_for_subject_name(&name).is_ok())
    })
}
