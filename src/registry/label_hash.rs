//! Hashing label values: foldhash under a seed drawn once per process, the same for raw values
//! as a caller passes them and for the parts of a stored key (see [`super::labels`]).

use std::hash::{BuildHasher, Hasher};

/// The hash seed, drawn once per process from the standard library's random keys, so that
/// label values an attacker chooses cannot be made to collide in advance.
pub(crate) static SEED: once_cell::sync::Lazy<u64> =
    once_cell::sync::Lazy::new(|| std::collections::hash_map::RandomState::new().hash_one(0x6d65_7472_6963_7321u64));

pub(crate) type PartHasher = foldhash::fast::FoldHasher;

#[inline]
pub(crate) fn hash_start() -> PartHasher {
    foldhash::fast::FixedState::with_seed(*SEED).build_hasher()
}

/// Adds one part (`None`: a declared key the policy removed, never a raw part).
#[inline]
pub(crate) fn hash_part(h: &mut PartHasher, part: Option<&str>) {
    match part {
        Some(p) => {
            h.write(p.as_bytes());
            h.write_u8(0xff);
        }
        None => h.write_u8(0xfe),
    }
}

#[inline]
pub(crate) fn hash_finish(h: PartHasher) -> u64 {
    h.finish()
}

#[inline]
pub(crate) fn hash_parts<S: AsRef<str>>(parts: &[S]) -> u64 {
    let mut h = hash_start();
    for p in parts {
        hash_part(&mut h, Some(p.as_ref()));
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    /// Prints the process' seed when asked (run by the test below in child processes).
    #[test]
    fn print_seed() {
        if std::env::var_os("CODOMYRMEX_PRINT_SEED").is_some() {
            println!("seed={}", *super::SEED);
        }
    }

    #[test]
    fn the_hash_seed_differs_between_processes() {
        let seed = || {
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "registry::label_hash::tests::print_seed", "--nocapture", "--test-threads=1"])
                .env("CODOMYRMEX_PRINT_SEED", "1")
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.lines().find_map(|l| l.split("seed=").nth(1).map(str::to_owned)).unwrap_or_else(|| panic!("{text}"))
        };
        let (a, b) = (seed(), seed());
        assert_ne!(a, b, "two processes hashed with the same seed");
    }
}
