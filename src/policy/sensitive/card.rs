//! Payment card numbers: 13 to 19 digits, alone or grouped by single spaces or dashes, that
//! pass the Luhn check and start with an issuer prefix of a length that issuer uses.
//! The prefix check keeps timestamps, order numbers and other long digit strings (which pass
//! Luhn one time in ten) from being redacted.

/// Issuer prefixes, as inclusive ranges over the leading digits, with the lengths issued.
const ISSUERS: &[(u32, u32, &[usize])] = &[
    (4, 4, &[13, 16, 19]),                   // Visa
    (51, 55, &[16]),                         // Mastercard
    (2221, 2720, &[16]),                     // Mastercard 2-series
    (34, 34, &[15]),                         // American Express
    (37, 37, &[15]),                         // American Express
    (6011, 6011, &[16, 17, 18, 19]),         // Discover
    (644, 649, &[16, 17, 18, 19]),           // Discover
    (65, 65, &[16, 17, 18, 19]),             // Discover
    (300, 305, &[14, 15, 16, 17, 18, 19]),   // Diners Club
    (36, 36, &[14, 15, 16, 17, 18, 19]),     // Diners Club
    (38, 39, &[16, 17, 18, 19]),             // Diners Club
    (3528, 3589, &[16, 17, 18, 19]),         // JCB
    (62, 62, &[16, 17, 18, 19]),             // UnionPay
    (50, 50, &[13, 14, 15, 16, 17, 18, 19]), // Maestro
    (56, 58, &[13, 14, 15, 16, 17, 18, 19]), // Maestro
];

fn issued(digits: &[u8]) -> bool {
    ISSUERS.iter().any(|(lo, hi, lengths)| {
        let width = lo.to_string().len();
        let lead = digits.iter().take(width).fold(0u32, |acc, d| acc * 10 + u32::from(*d));
        (*lo..=*hi).contains(&lead) && lengths.contains(&digits.len())
    })
}

/// The Luhn check over `digits` (values 0 to 9).
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 {
                    twice - 9
                } else {
                    twice
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// No card number has fewer digits.
pub(crate) const MIN_DIGITS: usize = 13;

/// Whether `value` holds a card number: a maximal run of digits joined by single spaces or
/// dashes, not touching other digits.
pub(crate) fn has_card_number(value: &str) -> bool {
    let b = value.as_bytes();
    if b.iter().filter(|c| c.is_ascii_digit()).count() < MIN_DIGITS {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // The first 19 digits of the run, and how many it has in all.
        let (mut buf, mut n) = ([0u8; 19], 0usize);
        let mut j = i;
        while j < b.len() {
            if b[j].is_ascii_digit() {
                if let Some(slot) = buf.get_mut(n) {
                    *slot = b[j] - b'0';
                }
                n += 1;
                j += 1;
            } else if matches!(b[j], b' ' | b'-') && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
                j += 1;
            } else {
                break;
            }
        }
        let digits = &buf[..n.min(19)];
        if (13..=19).contains(&n) && issued(digits) && luhn_valid(digits) {
            return true;
        }
        i = j;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::has_card_number;

    #[test]
    fn card_numbers_in_any_grouping() {
        for v in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "5500-0000-0000-0004",
            "378282246310005",
            "card:6011111111111117",
        ] {
            assert!(has_card_number(v), "{v}");
        }
    }

    #[test]
    fn other_digit_strings_are_not_cards() {
        // Luhn-valid but no issuer: an epoch in milliseconds, an order number; and a longer run.
        for v in ["1718031234566", "9000000000000001", "4111 1111 1111 1112", "41111111111111110000", "2024-06-11"] {
            assert!(!has_card_number(v), "{v}");
        }
    }
}
