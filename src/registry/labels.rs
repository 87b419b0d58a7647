//! A series' identity: its final label pairs, kept as data in one allocation.
//!
//! A family's table stores each key as one `Box<str>`: a role character (what the entry is
//! for, see [`Role`]), then each part as one character whose code point is the part's length
//! plus one and the part's text. A declared key the policy removed is the part `'\0'`.
//! A family with declared keys stores only the values (the keys are the family's); a facade
//! family stores `key, value, key, value…`. Raw label values as a caller passed them are
//! stored the same way, so a raw key equal to a series' final labels needs no entry of its own.
//!
//! Being a `str`, any part is a `&str` at no cost; nothing here escapes or parses label text:
//! the encoders do their own escaping from these pairs.

use std::cmp::Ordering;
use std::fmt;

use super::label_hash::{hash_finish, hash_part, hash_start};

/// The longest part a key can hold; [`crate::Policy::with_max_label_value_len`] is capped at it.
pub(crate) const MAX_PART_LEN: usize = 1 << 20;

/// What a table entry is for, as its key's first character.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// A raw key that resolves to another label set, to nothing, or to the overflow series.
    Raw,
    /// A series' final labels, not (yet) seen as a raw key.
    Labels,
    /// A series' final labels that are also a raw key resolving to that series.
    Both,
}

impl Role {
    fn char(self) -> char {
        match self {
            Role::Raw => 'r',
            Role::Labels => 'l',
            Role::Both => 'L',
        }
    }
}

/// The role of a stored key.
#[inline]
pub(crate) fn role(key: &str) -> Role {
    match key.as_bytes().first() {
        Some(b'l') => Role::Labels,
        Some(b'L') => Role::Both,
        _ => Role::Raw,
    }
}

/// Turns a [`Role::Labels`] key into a [`Role::Both`] one, in place.
pub(crate) fn mark_raw(key: &mut str) {
    if let Some(first) = key.get_mut(..1) {
        first.make_ascii_uppercase();
    }
}

/// The parts of a key, without its role.
#[inline]
pub(crate) fn body(key: &str) -> &str {
    key.get(1..).unwrap_or_default()
}

fn len_char(len: usize) -> Option<char> {
    let v = u32::try_from(len.checked_add(1)?).ok()?;
    // Code points skip the surrogates.
    let v = if v < 0xD800 { v } else { v.checked_add(0x800)? };
    char::from_u32(v)
}

fn char_len(c: char) -> Option<usize> {
    match c as u32 {
        0 => None,
        v if v < 0xD800 => Some(v as usize - 1),
        v => Some(v as usize - 0x801),
    }
}

/// A key for `parts` (`None`: a declared key the policy removed). `None` when a part is
/// longer than [`MAX_PART_LEN`].
pub(crate) fn encode<'a, I>(role: Role, parts: I) -> Option<Box<str>>
where
    I: IntoIterator<Item = Option<&'a str>>,
    I::IntoIter: Clone,
{
    let parts = parts.into_iter();
    // Sized exactly, so the key is one allocation and `into_boxed_str` has nothing to shrink.
    let size = parts
        .clone()
        .map(|p| p.map_or(Some(1), |p| Some(len_char(p.len())?.len_utf8() + p.len())))
        .sum::<Option<usize>>()?;
    let mut out = String::with_capacity(1 + size);
    out.push(role.char());
    for part in parts {
        match part {
            None => out.push('\0'),
            Some(p) if p.len() <= MAX_PART_LEN => {
                out.push(len_char(p.len())?);
                out.push_str(p);
            }
            Some(_) => return None,
        }
    }
    Some(out.into_boxed_str())
}

/// The parts of a key's body, in order.
#[derive(Clone)]
pub(crate) struct Parts<'a>(&'a str);

impl<'a> Iterator for Parts<'a> {
    type Item = Option<&'a str>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        // A length under 127 is one ASCII byte; longer ones are one multi-byte character.
        let (len, width) = match *self.0.as_bytes().first()? {
            b if b < 0x80 => (char_len(char::from(b)), 1),
            _ => {
                let c = self.0.chars().next()?;
                (char_len(c), c.len_utf8())
            }
        };
        let rest = self.0.get(width..)?;
        match len {
            None => {
                self.0 = rest;
                Some(None)
            }
            Some(n) => {
                let (part, rest) = (rest.get(..n)?, rest.get(n..)?);
                self.0 = rest;
                Some(Some(part))
            }
        }
    }
}

/// The parts of `body` (a key without its role).
#[inline]
pub(crate) fn parts(body: &str) -> Parts<'_> {
    Parts(body)
}

/// Whether `body` holds exactly the parts `raw`. Bytes only: a length under 127 is one ASCII
/// byte, and equal bytes need no character boundaries checked.
#[inline]
pub(crate) fn eq_raw(body: &str, raw: &[&str]) -> bool {
    let bytes = body.as_bytes();
    let mut at = 0;
    for p in raw {
        let (len, width) = match bytes.get(at) {
            Some(&b) if b < 0x80 => (char_len(char::from(b)), 1),
            Some(_) => match body.get(at..).and_then(|rest| rest.chars().next()) {
                Some(c) => (char_len(c), c.len_utf8()),
                None => return false,
            },
            None => return false,
        };
        if len != Some(p.len()) {
            return false;
        }
        at += width;
        if bytes.get(at..at + p.len()) != Some(p.as_bytes()) {
            return false;
        }
        at += p.len();
    }
    at == bytes.len()
}

/// The hash of `body`'s parts, equal to [`super::label_hash::hash_parts`] of the same raw parts.
pub(crate) fn hash_body(body: &str) -> u64 {
    let mut h = hash_start();
    for part in parts(body) {
        hash_part(&mut h, part);
    }
    hash_finish(h)
}

/// The labels of one series: its final `(key, value)` pairs, in rendering order, without the
/// registry's global labels. Values are as the policy left them, unescaped.
///
/// ```
/// use codomyrmex_metrics::Registry;
/// let r = Registry::default();
/// r.counter_family("jobs", "Jobs.", &["queue", "host"]).unwrap().with(&["mail", "a\"b"]).inc();
/// r.for_each_series(|s| {
///     assert_eq!(s.labels.iter().collect::<Vec<_>>(), [("queue", "mail"), ("host", "a\"b")]);
///     assert_eq!(s.labels.get("host"), Some("a\"b"));
///     assert_eq!(s.labels.len(), 2);
/// });
/// ```
#[derive(Clone, Copy)]
pub struct SeriesLabels<'a> {
    /// The family's declared keys; `None` when the body holds keys too.
    keys: Option<&'a [Box<str>]>,
    body: &'a str,
}

impl<'a> SeriesLabels<'a> {
    pub(crate) fn new(keys: Option<&'a [Box<str>]>, body: &'a str) -> Self {
        Self { keys, body }
    }

    /// The pairs, in rendering order.
    pub fn iter(&self) -> LabelPairs<'a> {
        LabelPairs { keys: self.keys.map(|k| k.iter()), parts: parts(self.body) }
    }

    /// The value of `key`, if the series has it.
    pub fn get(&self, key: &str) -> Option<&'a str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Pair by pair: key, then value.
    pub(crate) fn cmp_pairs(&self, other: &Self) -> Ordering {
        self.iter().cmp(other.iter())
    }
}

impl fmt::Debug for SeriesLabels<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for SeriesLabels<'a> {
    type Item = (&'a str, &'a str);
    type IntoIter = LabelPairs<'a>;

    fn into_iter(self) -> LabelPairs<'a> {
        self.iter()
    }
}

/// The `(key, value)` pairs of a [`SeriesLabels`].
#[derive(Debug, Clone)]
pub struct LabelPairs<'a> {
    keys: Option<std::slice::Iter<'a, Box<str>>>,
    parts: Parts<'a>,
}

impl fmt::Debug for Parts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

impl<'a> Iterator for LabelPairs<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.keys {
            Some(keys) => loop {
                let key = keys.next()?;
                // A declared key the policy removed has no part.
                if let Some(value) = self.parts.next()? {
                    return Some((key, value));
                }
            },
            None => {
                let key = self.parts.next()??;
                let value = self.parts.next()??;
                Some((key, value))
            }
        }
    }
}

/// The overflow series' labels, `codomyrmex_overflow="true"`.
pub(crate) fn overflow_key() -> &'static str {
    static KEY: once_cell::sync::Lazy<Box<str>> = once_cell::sync::Lazy::new(|| {
        let parts = [Some(crate::policy::OVERFLOW_LABEL), Some("true")];
        encode(Role::Labels, parts).unwrap_or_default()
    });
    &KEY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_round_trip_at_every_length_class() {
        let long = "x".repeat(0xD7FF);
        let longer = "y".repeat(0xE000);
        let max = "z".repeat(MAX_PART_LEN);
        let values = ["", "a", "é中🦀", long.as_str(), longer.as_str(), max.as_str()];
        let key = encode(Role::Labels, values.iter().map(|v| Some(*v)).chain([None])).unwrap();
        let back: Vec<Option<&str>> = parts(body(&key)).collect();
        let mut want: Vec<Option<&str>> = values.iter().map(|v| Some(*v)).collect();
        want.push(None);
        assert_eq!(back, want);
        assert!(eq_raw(body(&encode(Role::Raw, values.map(Some)).unwrap()), &values));
        assert!(!eq_raw(body(&key), &values), "an absent part is not an empty one");
        assert!(encode(Role::Raw, [Some("w".repeat(MAX_PART_LEN + 1).as_str())]).is_none());
    }

    #[test]
    fn raw_parts_equal_only_the_same_parts() {
        let key = encode(Role::Raw, [Some("ab"), Some("c")]).unwrap();
        assert!(eq_raw(body(&key), &["ab", "c"]));
        for other in [&["a", "bc"][..], &["ab"], &["ab", "c", ""], &["ab", "d"], &["abc"]] {
            assert!(!eq_raw(body(&key), other), "{other:?}");
        }
        assert_eq!(hash_body(body(&key)), super::super::label_hash::hash_parts(&["ab", "c"]));
    }

    #[test]
    fn roles_change_in_place() {
        let mut key = encode(Role::Labels, [Some("v")]).unwrap();
        assert_eq!(role(&key), Role::Labels);
        mark_raw(&mut key);
        assert_eq!(role(&key), Role::Both);
        assert_eq!(body(&key), body(&encode(Role::Raw, [Some("v")]).unwrap()));
    }

    #[test]
    fn pairs_skip_removed_keys_and_read_dynamic_bodies() {
        let keys: Box<[Box<str>]> = vec!["a".into(), "b".into(), "c".into()].into();
        let key = encode(Role::Labels, [Some("1"), None, Some("3")]).unwrap();
        let l = SeriesLabels::new(Some(&keys), body(&key));
        assert_eq!(l.iter().collect::<Vec<_>>(), [("a", "1"), ("c", "3")]);
        assert_eq!((l.get("b"), l.get("c"), l.len()), (None, Some("3"), 2));
        let dynamic = SeriesLabels::new(None, body(overflow_key()));
        assert_eq!(dynamic.iter().collect::<Vec<_>>(), [("codomyrmex_overflow", "true")]);
        assert_eq!(format!("{dynamic:?}"), r#"{"codomyrmex_overflow": "true"}"#);
    }
}
