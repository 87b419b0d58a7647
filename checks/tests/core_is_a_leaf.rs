//! The core (`instrument`, `policy`, `registry`, `storage`, `facade`, `export`) imports nothing
//! from `backend`: backends plug in through the core's own extension points (exporters and
//! series observers), so a new backend adds no `cfg` and no path to the core.

#[path = "support/sources.rs"]
mod sources;

use sources::{code, rust_files, src_dir};

const CORE: [&str; 6] = ["instrument", "policy", "registry", "storage", "facade", "export"];

#[test]
fn no_core_module_reaches_into_backend() {
    let src = src_dir();
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
