//! Secret files (private keys, password and token files): refused when group or others can
//! read them, or only warned about when so configured. Their contents never reach a log or an
//! error message; only the path does.

use std::path::Path;

use crate::error::ConfigError;

/// What to do with a secret file that group or others can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecretFilePolicy {
    /// Refuse it with a configuration error (default).
    #[default]
    Refuse,
    /// Accept it and log a warning.
    Warn,
}

/// Reads a secret file after checking its permissions (TLS keys, checked when loaded).
#[cfg_attr(not(feature = "tls"), allow(dead_code))]
pub(crate) fn read_secret(path: &Path, what: &'static str, policy: SecretFilePolicy) -> Result<Vec<u8>, ConfigError> {
    check_permissions(path, what, policy)?;
    let bad = |reason: String| ConfigError::Invalid { setting: what, reason };
    std::fs::read(path).map_err(|e| bad(format!("cannot read {}: {}", path.display(), e.kind())))
}

/// A secret file read by a builder setter, whose permissions `build` checks under the policy
/// in force then: a policy given after the file setter applies to it too.
#[derive(Debug, Clone)]
#[cfg_attr(not(any(feature = "_http-server", feature = "pushgateway")), allow(dead_code))]
pub(crate) struct ReadSecret {
    pub(crate) path: std::path::PathBuf,
    pub(crate) what: &'static str,
}

/// Reads a secret file holding one value, leaving its permission check to `build` (see
/// [`ReadSecret`]); a missing, unreadable or non-UTF-8 file is an error at once.
#[cfg_attr(not(any(feature = "_http-server", feature = "pushgateway")), allow(dead_code))]
pub(crate) fn read_secret_deferred(path: &Path, what: &'static str) -> Result<(String, ReadSecret), ConfigError> {
    let bad = |reason: String| ConfigError::Invalid { setting: what, reason };
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read {}: {}", path.display(), e.kind())))?;
    let text = String::from_utf8(bytes).map_err(|_| bad(format!("{} is not UTF-8", path.display())))?;
    Ok((text.trim_end_matches(['\n', '\r']).to_owned(), ReadSecret { path: path.to_owned(), what }))
}

/// Checks the files a builder read, under the policy in force at `build`.
#[cfg_attr(not(any(feature = "_http-server", feature = "pushgateway")), allow(dead_code))]
pub(crate) fn check_read_secrets(files: &[ReadSecret], policy: SecretFilePolicy) -> Result<(), ConfigError> {
    files.iter().try_for_each(|f| check_permissions(&f.path, f.what, policy))
}

/// Refuses (or warns about) a secret file that group or others can read.
pub(crate) fn check_permissions(path: &Path, what: &'static str, policy: SecretFilePolicy) -> Result<(), ConfigError> {
    let bad = |reason: String| ConfigError::Invalid { setting: what, reason };
    let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot read {}: {}", path.display(), e.kind())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            match policy {
                SecretFilePolicy::Refuse => {
                    return Err(bad(format!(
                        "{} is readable by group or others (mode {:o}); run `chmod 600` on it, or accept it with SecretFilePolicy::Warn",
                        path.display(),
                        mode & 0o777
                    )))
                }
                SecretFilePolicy::Warn => {
                    tracing::warn!(path = %path.display(), mode = format!("{:o}", mode & 0o777), "secret file is readable by group or others")
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (meta, policy);
    Ok(())
}
