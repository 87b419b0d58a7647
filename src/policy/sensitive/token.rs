//! Random-looking tokens without a known prefix: API keys, session ids, signing secrets.
//!
//! A run of 20 or more characters of the base64 alphabet (`A-Z a-z 0-9 + / = _ -`) is judged
//! in two ways:
//! - a separator-free segment of 20 or more hex digits, with letters and digits mixed, is a
//!   token, unless it is exactly 40 or 64 digits long: those are git commit ids (SHA-1,
//!   SHA-256) and content digests, which build-info labels and image references carry;
//! - otherwise windows of 20 or more characters are scored by a log-likelihood ratio: how much
//!   more likely their sequence of character classes (upper, lower, digit, separator) and
//!   their vowels are under a uniform random draw from the base64 alphabet than under the
//!   shape of identifiers people write (words in snake, kebab or camel case, version
//!   numbers). A run with both cases is scored across separators; a run in one case only is
//!   scored per separator-free segment of 20 or more, so a Kubernetes pod name
//!   (`checkout-7d9f8b6c5d-x2x9k`) is never taken for a token.
//!
//! The model's probabilities are written by hand from what identifiers look like, not fitted
//! to the corpora that measure it (checks/tests/data): see docs/policy.md for the figures.

/// Shortest run judged.
const MIN_RUN: usize = 20;
/// Hex lengths left alone: git commit ids and SHA-256 digests.
const HEX_DIGEST_LENGTHS: [usize; 2] = [40, 64];
/// Log-likelihood ratio (natural log) above which a run is taken for random.
const THRESHOLD: f64 = 2.0;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Upper,
    Lower,
    Digit,
    Sep,
}

/// Per byte: its class's bit, and [`ALPHABET`] for the base64 alphabet. One table read
/// classifies a byte without branches (a new series scans each label value once).
const UPPER: u8 = 1;
const LOWER: u8 = 2;
const DIGIT: u8 = 4;
const SEP: u8 = 8;
const ALPHABET: u8 = 16;
static TABLE: [u8; 256] = {
    let mut t = [SEP; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'A'..=b'Z' => UPPER | ALPHABET,
            b'a'..=b'z' => LOWER | ALPHABET,
            b'0'..=b'9' => DIGIT | ALPHABET,
            b'+' | b'/' | b'=' | b'_' | b'-' => SEP | ALPHABET,
            _ => SEP,
        };
        b += 1;
    }
    t
};

fn class(b: u8) -> Class {
    match TABLE[usize::from(b)] & !ALPHABET {
        UPPER => Class::Upper,
        LOWER => Class::Lower,
        DIGIT => Class::Digit,
        _ => Class::Sep,
    }
}

/// ln P(class) for a uniform draw from the 64-character base64 alphabet.
fn ln_random(c: Class) -> f64 {
    match c {
        Class::Upper | Class::Lower => (26.0f64 / 64.0).ln(),
        Class::Digit => (10.0f64 / 64.0).ln(),
        Class::Sep => (2.0f64 / 64.0).ln(),
    }
}

/// ln P(next class | class) for identifiers: words stay in their case, a capital starts a
/// word, digits come in runs, separators sit between words.
fn ln_identifier(prev: Class, next: Class) -> f64 {
    use Class::{Digit as D, Lower as L, Sep as S, Upper as U};
    let p: f64 = match (prev, next) {
        (L, L) => 0.85,
        (L, U) => 0.08,
        (L, D) => 0.04,
        (L, S) => 0.03,
        (U, L) => 0.60,
        (U, U) => 0.30,
        (U, D) | (U, S) => 0.05,
        (D, D) => 0.60,
        (D, L) | (D, S) => 0.15,
        (D, U) => 0.10,
        (S, L) => 0.60,
        (S, U) | (S, D) => 0.20,
        (S, S) => 0.01,
    };
    p.ln()
}

/// Vowels are 5 of 26 letters in a random draw, about 38% of the letters of identifiers.
fn ln_vowel_ratio(b: u8) -> f64 {
    if matches!(b.to_ascii_lowercase(), b'a' | b'e' | b'i' | b'o' | b'u') {
        (5.0f64 / 26.0 / 0.38).ln()
    } else {
        (21.0f64 / 26.0 / 0.62).ln()
    }
}

/// The largest log-likelihood ratio (natural log) of any window of at least `MIN_RUN`
/// characters of `s`: how much more likely it is random than an identifier. A window, not the
/// whole run, so that a token inside a path (`/reset/q7Zp9XvL…`) is not diluted by the words
/// around it.
fn max_window_score(s: &[u8]) -> f64 {
    // prefix[i] = sum of the first i per-character scores; the best window ending at j is
    // prefix[j] - min(prefix[..=j - MIN_RUN]).
    let mut prefix = 0.0;
    let mut history: Vec<f64> = Vec::with_capacity(s.len() + 1);
    history.push(0.0);
    let mut lowest = f64::INFINITY;
    let mut best = f64::NEG_INFINITY;
    let mut prev: Option<Class> = None;
    for (j, &b) in s.iter().enumerate() {
        let c = class(b);
        if let Some(p) = prev {
            prefix += ln_random(c) - ln_identifier(p, c);
        }
        if matches!(c, Class::Upper | Class::Lower) {
            prefix += ln_vowel_ratio(b);
        }
        prev = Some(c);
        history.push(prefix);
        let end = j + 1;
        if end >= MIN_RUN {
            lowest = lowest.min(history[end - MIN_RUN]);
            best = best.max(prefix - lowest);
        }
    }
    best
}

fn is_hex_token(seg: &[u8]) -> bool {
    seg.len() >= MIN_RUN
        && !HEX_DIGEST_LENGTHS.contains(&seg.len())
        && seg.iter().all(u8::is_ascii_hexdigit)
        && seg.iter().any(u8::is_ascii_digit)
        && seg.iter().any(u8::is_ascii_alphabetic)
}

fn segments(run: &[u8]) -> impl Iterator<Item = &[u8]> {
    run.split(|b| class(*b) == Class::Sep).filter(|s| !s.is_empty())
}

fn run_is_token(run: &[u8]) -> bool {
    // One pass for the cases and the longest separator-free segment: below, only a mixed-case
    // run is judged whole, and anything else needs a segment of `MIN_RUN` or more (a path like
    // `/api/v1/items/00000123` has none).
    // Without branches on the class: mixed classes made each byte a likely misprediction.
    let (mut seen, mut segment, mut longest) = (0u8, 0usize, 0usize);
    for &b in run {
        let t = TABLE[usize::from(b)];
        seen |= t;
        let in_segment = usize::from(t & SEP == 0);
        segment = (segment + 1) * in_segment;
        longest = longest.max(segment);
    }
    let (upper, lower) = (seen & UPPER != 0, seen & LOWER != 0);
    if longest < MIN_RUN && !(upper && lower) {
        return false;
    }
    if longest >= MIN_RUN && segments(run).any(is_hex_token) {
        return true;
    }
    if upper && lower {
        return max_window_score(run) > THRESHOLD;
    }
    segments(run)
        .any(|seg| seg.len() >= MIN_RUN && !seg.iter().all(u8::is_ascii_hexdigit) && max_window_score(seg) > THRESHOLD)
}

/// Whether `value` holds a random-looking token (see the module docs).
pub(crate) fn has_random_token(value: &str) -> bool {
    let bytes = value.as_bytes();
    if bytes.len() < MIN_RUN {
        return false;
    }
    // One pass finds the runs and what [`run_is_token`] looks at first (both cases, or a
    // segment of `MIN_RUN`), so a run without either is never read again.
    let (mut start, mut seen, mut segment, mut longest) = (0, 0u8, 0usize, 0usize);
    for (i, &b) in bytes.iter().enumerate() {
        let t = TABLE[usize::from(b)];
        if t & ALPHABET == 0 {
            if judge(&bytes[start..i], seen, longest) {
                return true;
            }
            (start, seen, segment, longest) = (i + 1, 0, 0, 0);
            continue;
        }
        seen |= t;
        segment = (segment + 1) * usize::from(t & SEP == 0);
        longest = longest.max(segment);
    }
    judge(&bytes[start..], seen, longest)
}

/// A run of the alphabet, with the classes `seen` in it and its `longest` segment.
fn judge(run: &[u8], seen: u8, longest: usize) -> bool {
    let worth = seen & (UPPER | LOWER) == UPPER | LOWER || longest >= MIN_RUN;
    if run.len() < MIN_RUN || !worth {
        return false;
    }
    let mut run = run;
    while let [rest @ .., b'='] = run {
        run = rest;
    }
    run.len() >= MIN_RUN && run_is_token(run)
}

#[cfg(test)]
mod tests {
    use super::{has_random_token, run_is_token, ALPHABET, MIN_RUN, TABLE};

    /// The scan as first written: each run found, then judged whole.
    fn reference(value: &str) -> bool {
        let in_alphabet = |b: u8| TABLE[usize::from(b)] & ALPHABET != 0;
        let bytes = value.as_bytes();
        let mut start = 0;
        while start < bytes.len() {
            if !in_alphabet(bytes[start]) {
                start += 1;
                continue;
            }
            let end = bytes[start..].iter().position(|b| !in_alphabet(*b)).map_or(bytes.len(), |n| start + n);
            let mut run = &bytes[start..end];
            while let [rest @ .., b'='] = run {
                run = rest;
            }
            if run.len() >= MIN_RUN && run_is_token(run) {
                return true;
            }
            start = end;
        }
        false
    }

    /// The one-pass scan answers as the reference on both corpora and on generated values.
    #[test]
    fn the_one_pass_scan_answers_as_the_reference() {
        let pieces =
            ["q7Zp9XvL", "2mWc8RtY", "abcdef", "0123456789", "ABCDEF", "=", "==", "/", "-", "_", " ", ".", "é"];
        let mut values = super::super::test_values::corpora();
        values.extend(super::super::test_values::built(&pieces, 20_000, 10, 0x2545_f491_4f6c_dd1d));
        let found = values.iter().filter(|v| has_random_token(v)).count();
        for v in &values {
            assert_eq!(has_random_token(v), reference(v), "{v:?}");
        }
        assert!(found > 2_000 && found < values.len() - 2_000, "{found} of {}", values.len());
    }

    #[test]
    fn random_tokens_are_found() {
        for v in [
            "q7Zp9XvL2mWc8RtY4kBn6HsJ3dFg0AeU",
            "Go5T+BEXX0d/CZBO1juogJA",
            "9f86d081884c7d659a2feaa0c55ad015a3bf",
            "id=Xk2mP9qR4tL8wZ3nB6vC1yF5",
            "/api/v1/users/password/reset/q7Zp9XvL2mWc8RtY4kBn6HsJ3dFg0AeU",
        ] {
            assert!(has_random_token(v), "{v}");
        }
    }

    #[test]
    fn identifiers_are_not_tokens() {
        for v in [
            "/api/v1/organizations/members/invitations",
            "checkout-service-7d9f8b6c5d-x2x9k",
            "kafka-consumer-group-orders-v2-prod",
            "3f786850e387550fdab836ed7e6dc881de23001b",
            "OrderProcessingServiceImplementation",
            "getUserByIDAndTenantV2",
            "HTTPServerErrorHandlerV3",
            "AbstractSingletonProxyFactoryBean",
            "EKS-Cluster-Prod-EUWest1-NodeGroupA",
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "prod-us-east-1-eks-node-group-m5-2xlarge",
            "12345678901234567890123",
        ] {
            assert!(!has_random_token(v), "{v}");
        }
    }
}
