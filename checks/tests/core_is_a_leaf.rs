//! The core (`instrument`, `policy`, `registry`, `storage`, `facade`, `export`) imports nothing
//! from `backend`: backends plug in through the core's own extension points (exporters and
//! series observers), so a new backend adds no `cfg` and no path to the core.

use std::path::{Path, PathBuf};

const CORE: [&str; 6] = ["instrument", "policy", "registry", "storage", "facade", "export"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
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
fn code(line: &str) -> &str {
    line.split("//").next().unwrap_or_default()
}

#[test]
fn no_core_module_reaches_into_backend() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../src");
    let mut offending = Vec::new();
    let mut files = Vec::new();
    for module in CORE {
        let dir = src.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
    }
    assert!(files.len() > 30, "the core was not found under {}", src.display());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let c = code(line);
            if c.contains("backend::") || c.contains("crate::Backend") || c.contains("feature = \"statsd\"") {
                offending.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offending.is_empty(), "the core reaches into the backends:\n{}", offending.join("\n"));
}

/// The check itself sees what it is for: a line that names `backend::` is caught, a comment
/// that does is not.
#[test]
fn the_check_catches_an_import_and_skips_comments() {
    assert!(code("use crate::backend::statsd::tap::Tap;").contains("backend::"));
    assert!(!code("/// see `backend::statsd`").contains("backend::"));
    assert!(!code("    // backend::x").contains("backend::"));
}
