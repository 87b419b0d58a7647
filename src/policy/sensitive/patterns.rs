//! The fixed-shape detectors: e-mail addresses, JWTs, `Authorization` credentials, provider
//! tokens with a known prefix, UUIDs and IP addresses. Every pattern is ASCII-only, so it
//! needs no Unicode table from the regex crate.

use once_cell::sync::Lazy;
use regex::Regex;

fn compile(pattern: &str) -> Regex {
    // The patterns are constants, compiled by a unit test of this module and by the
    // downstream crate in every feature set; an error here is a bug in this file.
    Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in pattern {pattern:?}: {e}"))
}

static EMAIL: Lazy<Regex> =
    Lazy::new(|| compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"));
static JWT: Lazy<Regex> = Lazy::new(|| compile(r"eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*"));
/// An auth scheme word, white space, and a credential (captured).
static AUTH_SCHEME: Lazy<Regex> = Lazy::new(|| {
    compile(concat!(
        r"(?:^|[^A-Za-z0-9_])(?:[Bb]earer|BEARER|[Bb]asic|BASIC|[Dd]igest|DIGEST|[Tt]oken|TOKEN)",
        r"[ \t]+([A-Za-z0-9\-._~+/]{8,}=*)"
    ))
});
/// Provider token formats, each anchored at a non-word boundary.
static PROVIDER: Lazy<Regex> = Lazy::new(|| {
    compile(concat!(
        r"(?:^|[^A-Za-z0-9])(?:",
        r"[spr]k_(?:live|test)_[A-Za-z0-9]{16,}",                    // Stripe
        r"|sk-[A-Za-z0-9_\-]{20,}",                                  // OpenAI, Anthropic
        r"|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}", // GitHub
        r"|xox[abposr]-[A-Za-z0-9\-]{10,}|xapp-[A-Za-z0-9\-]{10,}",  // Slack
        r"|(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}",                     // AWS access key ids
        r"|AIza[A-Za-z0-9_\-]{35}",                                  // Google API keys
        r"|gl(?:pat|dt|rt|cbt|ptt|ft)-[A-Za-z0-9_\-]{20,}|glsa_[A-Za-z0-9_]{32,}", // GitLab, Grafana
        r"|npm_[A-Za-z0-9]{36}|pypi-AgE[A-Za-z0-9_\-]{50,}",         // npm, PyPI
        r"|SG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}",            // SendGrid
        r"|(?:SK|AC)[0-9a-fA-F]{32}",                                // Twilio
        r"|shp(?:at|ss|ca|pa)_[0-9a-fA-F]{32}",                      // Shopify
        r"|do[por]_v1_[0-9a-f]{64}",                                 // DigitalOcean
        r"|hf_[A-Za-z0-9]{30,}",                                     // Hugging Face
        r"|key-[0-9a-f]{32}",                                        // Mailgun
        r"|sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,}",                      // Square
        r"|-----BEGIN [A-Z ]*PRIVATE KEY",                           // PEM private keys
        r")"
    ))
});
static UUID: Lazy<Regex> = Lazy::new(|| {
    compile(
        r"(?:^|[^0-9A-Fa-f])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?:$|[^0-9A-Fa-f])",
    )
});
static IPV4: Lazy<Regex> = Lazy::new(|| compile(r"(?:^|[^0-9.])((?:[0-9]{1,3}\.){3}[0-9]{1,3})(?:$|[^0-9.])"));
static IPV6_CANDIDATE: Lazy<Regex> =
    Lazy::new(|| compile(r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:%[A-Za-z0-9]+)?"));

// Each detector first looks for what its pattern cannot match without (an `@`, `eyJ`, white
// space): most label values have none, and the look costs a few nanoseconds where the regex
// costs tens (a new series paid about 70 ns less for the three).

pub(crate) fn has_email(v: &str) -> bool {
    v.contains('@') && EMAIL.is_match(v)
}

pub(crate) fn has_jwt(v: &str) -> bool {
    v.contains("eyJ") && JWT.is_match(v)
}

/// `Bearer …`, `Basic …`, `Digest …` or `Token …` followed by something that looks like a
/// credential rather than a word: a digit, a symbol of the token alphabet, or both cases.
/// "Bearer authentication failed" is prose; "Bearer mF_9.B5f-4.1JqM" is a credential.
pub(crate) fn has_auth_credential(v: &str) -> bool {
    if !v.bytes().any(|b| b == b' ' || b == b'\t') {
        return false;
    }
    AUTH_SCHEME.captures_iter(v).any(|c| {
        let cred = c.get(1).map_or("", |m| m.as_str());
        let b = cred.as_bytes();
        b.iter().any(|x| x.is_ascii_digit() || b"-._~+/=".contains(x))
            || (b.iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_lowercase))
    })
}

pub(crate) fn has_provider_token(v: &str) -> bool {
    PROVIDER.is_match(v)
}

pub(crate) fn has_uuid(v: &str) -> bool {
    UUID.is_match(v)
}

pub(crate) fn has_ip_address(v: &str) -> bool {
    IPV4.captures_iter(v).any(|c| c[1].parse::<std::net::Ipv4Addr>().is_ok())
        || IPV6_CANDIDATE.find_iter(v).any(|m| {
            let s = m.as_str().split('%').next().unwrap_or_default();
            s.parse::<std::net::Ipv6Addr>().is_ok()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for re in [&EMAIL, &JWT, &AUTH_SCHEME, &PROVIDER, &UUID, &IPV4, &IPV6_CANDIDATE] {
            Lazy::force(re);
        }
    }

    #[test]
    fn auth_schemes_need_a_credential() {
        assert!(has_auth_credential("Bearer mF_9.B5f-4.1JqM"));
        assert!(has_auth_credential("Authorization: Basic dXNlcjpwYXNzd29yZA=="));
        assert!(!has_auth_credential("Bearer authentication failed"));
        assert!(!has_auth_credential("invalid_token"));
        assert!(!has_auth_credential("token expired"));
    }
}
