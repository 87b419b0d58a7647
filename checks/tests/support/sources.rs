//! The crate's own source files, for the tests that check how the code is laid out.

use std::path::{Path, PathBuf};

/// The crate's `src` directory.
pub fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../src")
}

/// Every `.rs` file under `dir`, recursively, appended to `out`.
pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Code of a line, without its `//` comment (doc comments included).
pub fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or_default()
}
