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

/// Reads a secret file after checking its permissions.
pub(crate) fn read_secret(path: &Path, what: &'static str, policy: SecretFilePolicy) -> Result<Vec<u8>, ConfigError> {
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
    std::fs::read(path).map_err(|e| bad(format!("cannot read {}: {}", path.display(), e.kind())))
}

/// Reads a secret file holding one value (a token or a password), trimmed of the final newline.
#[cfg_attr(not(any(feature = "_http-server", feature = "_http-client")), allow(dead_code))]
pub(crate) fn read_secret_string(
    path: &Path,
    what: &'static str,
    policy: SecretFilePolicy,
) -> Result<String, ConfigError> {
    let bytes = read_secret(path, what, policy)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ConfigError::Invalid { setting: what, reason: format!("{} is not UTF-8", path.display()) })?;
    Ok(text.trim_end_matches(['\n', '\r']).to_owned())
}
