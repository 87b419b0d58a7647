//! Certificate pinning: the server's certificate must pass normal verification (chain to a
//! trusted root, valid dates, the host name) and, on top of it, its SubjectPublicKeyInfo must
//! hash (SHA-256) to one of the pins. A pin never replaces verification.
//!
//! A pin is the base64 of the 32-byte digest, as `curl --pinnedpubkey sha256//…` and HPKP
//! wrote it; `openssl x509 -in server.crt -pubkey -noout | openssl pkey -pubin -outform der |
//! openssl dgst -sha256 -binary | base64` prints it.

use std::sync::Arc;

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

use crate::error::ConfigError;

/// SHA-256 digests of accepted SubjectPublicKeyInfos.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Pins(Vec<[u8; 32]>);

impl std::fmt::Debug for Pins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pins({})", self.0.len())
    }
}

impl Pins {
    /// Parses base64 SHA-256 pins (an optional `sha256/` or `sha256//` prefix is accepted).
    pub(crate) fn parse<S: AsRef<str>>(
        setting: &'static str,
        pins: impl IntoIterator<Item = S>,
    ) -> Result<Self, ConfigError> {
        let mut out = Vec::new();
        for p in pins {
            let p = p.as_ref().trim();
            let b64 = p.strip_prefix("sha256//").or_else(|| p.strip_prefix("sha256/")).unwrap_or(p);
            let digest =
                base64::engine::general_purpose::STANDARD.decode(b64).ok().and_then(|d| <[u8; 32]>::try_from(d).ok());
            match digest {
                Some(d) => out.push(d),
                None => {
                    return Err(ConfigError::Invalid {
                        setting,
                        reason: format!("{p:?} is not the base64 of a SHA-256 digest (44 characters)"),
                    })
                }
            }
        }
        Ok(Self(out))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The end-entity certificate's SubjectPublicKeyInfo did not match any pin.
#[derive(Debug, thiserror::Error)]
#[error("the server's public key matches no configured pin")]
pub(crate) struct PinMismatch;

/// Whether a connection error is a pin mismatch (rustls wraps it in an I/O error).
pub(crate) fn is_pin_mismatch(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if let Some(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(inner)))) =
            e.downcast_ref::<rustls::Error>()
        {
            return inner.is::<PinMismatch>();
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            cur = io.get_ref().map(|i| i as &(dyn std::error::Error + 'static));
            continue;
        }
        cur = e.source();
    }
    false
}

/// Normal verification, then the pin.
#[derive(Debug)]
pub(crate) struct PinnedVerifier {
    inner: Arc<WebPkiServerVerifier>,
    pins: Pins,
}

impl PinnedVerifier {
    pub(crate) fn new(inner: Arc<WebPkiServerVerifier>, pins: Pins) -> Self {
        Self { inner, pins }
    }
}

fn spki_sha256(cert: &CertificateDer<'_>) -> Result<[u8; 32], rustls::Error> {
    let ee = webpki::EndEntityCert::try_from(cert)
        .map_err(|_| rustls::Error::InvalidCertificate(CertificateError::BadEncoding))?;
    let spki = ee.subject_public_key_info();
    let d = ring::digest::digest(&ring::digest::SHA256, spki.as_ref());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    Ok(out)
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)?;
        let digest = spki_sha256(end_entity)?;
        if self.pins.0.iter().any(|p| p == &digest) {
            Ok(verified)
        } else {
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(PinMismatch)))))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_base64_sha256_digests() {
        let good = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
        assert_eq!(Pins::parse("pin", [good]).unwrap().0.len(), 1);
        assert_eq!(Pins::parse("pin", [format!("sha256//{good}")]).unwrap(), Pins::parse("pin", [good]).unwrap());
        for bad in ["", "abc", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF==", "sha1/AAAA"] {
            let e = Pins::parse("pin_sha256", [bad]).unwrap_err().to_string();
            assert!(e.contains("pin_sha256") && e.contains("SHA-256"), "{e}");
        }
        assert_eq!(format!("{:?}", Pins::parse("pin", [good]).unwrap()), "Pins(1)");
    }

    #[test]
    fn a_mismatch_is_recognised_through_the_io_error() {
        let tls = rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(PinMismatch))));
        let io = std::io::Error::new(std::io::ErrorKind::InvalidData, tls);
        assert!(is_pin_mismatch(&io));
        let other = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert!(!is_pin_mismatch(&other));
    }
}
