//! Values for the detectors' unit tests: both corpora of checks/tests/data, and values built
//! from pieces (a detector's own literals, boundaries and separators) by a seeded generator.

/// Every value of both corpora (secrets and benign), in file order.
pub(super) fn corpora() -> Vec<String> {
    [
        include_str!("../../../checks/tests/data/secret_label_values.tsv"),
        include_str!("../../../checks/tests/data/benign_label_values.tsv"),
    ]
    .iter()
    .flat_map(|c| c.lines())
    .filter(|l| !l.starts_with('#'))
    .filter_map(|l| l.split_once('\t').map(|(_, v)| v.to_owned()))
    .collect()
}

/// `n` values, each of fewer than `most` pieces drawn by a xorshift generator from `seed`.
pub(super) fn built(pieces: &[&str], n: usize, most: u64, seed: u64) -> Vec<String> {
    let mut state = seed;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|_| {
            let count = next() % most;
            (0..count).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect()
        })
        .collect()
}
