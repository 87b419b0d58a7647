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
/// Provider token formats. Each must start at a boundary (the value's start, or after a
/// character other than a letter or digit); [`has_provider_token`] checks it, so that the
/// pattern starts with its literals and the regex engine searches for those first.
static PROVIDER: Lazy<Regex> = Lazy::new(|| compile(PROVIDER_FORMATS));
const PROVIDER_FORMATS: &str = concat!(
    r"(?:",
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
);
/// The shortest provider token: Slack's `xox?-` or `xapp-` and 10 characters.
pub(crate) const PROVIDER_MIN_RUN: usize = 15;
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

/// Whether a provider token starts at a boundary somewhere in `v`: every place the pattern
/// matches is tried, leftmost first, so this is the same as a pattern that begins with the
/// boundary, and most values, holding none of the literals, cost one literal search.
pub(crate) fn has_provider_token(v: &str) -> bool {
    let mut from = 0;
    while let Some(m) = PROVIDER.find_at(v, from) {
        let before = m.start().checked_sub(1).and_then(|i| v.as_bytes().get(i));
        if !before.is_some_and(u8::is_ascii_alphanumeric) {
            return true;
        }
        // Every format starts with an ASCII character, so the next byte starts a character.
        from = m.start() + 1;
    }
    false
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

    /// The boundary checked in code decides as the boundary in the pattern did, on values
    /// made of the formats' own pieces, boundaries and non-boundaries.
    #[test]
    fn the_boundary_in_code_matches_the_boundary_in_the_pattern() {
        let with_boundary = compile(&format!("(?:^|[^A-Za-z0-9]){PROVIDER_FORMATS}"));
        let pieces = [
            "sk_live_",
            "sk-",
            "ghp_",
            "xoxb-",
            "AKIA",
            "SK",
            "key-",
            "-----BEGIN RSA PRIVATE KEY",
            "a",
            "Z",
            "7",
            "_",
            "-",
            "/",
            " ",
            ".",
            "é",
            "0123456789abcdef",
            "ABCDEFGHIJKLMNOP",
            "0123456789abcdefABCDEF0123456789",
        ];
        let (mut found, mut refused_by_boundary) = (0, 0);
        for v in super::super::test_values::built(&pieces, 20_000, 9, 0x2545_f491_4f6c_dd1d) {
            let got = has_provider_token(&v);
            assert_eq!(got, with_boundary.is_match(&v), "{v:?}");
            // The guard looks at the value's shape first: it never hides a token.
            let shape = super::super::Shape::of(&v);
            assert!(!got || shape.word_run >= PROVIDER_MIN_RUN || shape.dashes >= 5, "{v:?}");
            found += usize::from(got);
            refused_by_boundary += usize::from(!got && PROVIDER.is_match(&v));
        }
        // The values exercise both answers, and the boundary's own.
        assert!(found > 1_000 && refused_by_boundary > 100, "{found} {refused_by_boundary}");
        assert!(has_provider_token("x sk-abcdefghijklmnopqrstu") && !has_provider_token("xsk-abcdefghijklmnopqrstu"));
    }

    #[test]
    fn the_shortest_tokens_pass_the_guards_run_check() {
        for v in ["xoxb-abcdefghij", "xapp-0123456789", "AKIAABCDEFGHIJKLMNOP", "-----BEGIN PRIVATE KEY"] {
            assert!(has_provider_token(v), "{v}");
            let shape = super::super::Shape::of(v);
            assert!(shape.word_run >= PROVIDER_MIN_RUN || shape.dashes >= 5, "{v}");
        }
        assert!(!has_provider_token("xoxb-abcdefghi"), "one character short");
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
