//! A backend of your own: a push exporter that writes the exposition to a file every interval
//! and once more at shutdown. Run: `cargo run --example custom_exporter`.

use std::path::PathBuf;
use std::time::Duration;

use codomyrmex_metrics::export::{Exporter, ExporterError, PushExporter};
use codomyrmex_metrics::{get_metrics, Backend, Format, Registry};

/// Writes the text exposition to a file (as node_exporter's textfile collector reads it),
/// through a temporary file and a rename so a reader never sees half a file.
struct TextfileExporter {
    path: PathBuf,
    buf: String,
}

impl PushExporter for TextfileExporter {
    fn name(&self) -> &str {
        "textfile"
    }

    fn interval(&self) -> Duration {
        Duration::from_millis(200)
    }

    fn push(&mut self, registry: &Registry) -> Result<(), ExporterError> {
        registry.render_into(Format::PrometheusText, &mut self.buf);
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, &self.buf)
            .and_then(|()| std::fs::rename(&tmp, &self.path))
            .map_err(|e| ExporterError::Push { exporter: "textfile".into(), source: Box::new(e) })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("codomyrmex-example-{}.prom", std::process::id()));
    let exporter = TextfileExporter { path: path.clone(), buf: String::new() };
    // Several backends at once: in memory for `render`, and the file.
    let metrics =
        get_metrics(Backend::Multi(vec![Backend::InMemory, Backend::Custom(Exporter::Push(Box::new(exporter)))]))?;

    let jobs = metrics.counter("batch_jobs", "Jobs run.")?;
    jobs.inc_by(7);
    metrics.shutdown()?; // the final push writes the last values

    let written = std::fs::read_to_string(&path)?;
    assert!(written.contains("batch_jobs_total 7\n"));
    println!("wrote {} ({} bytes):", path.display(), written.len());
    println!("{}", written.lines().take(3).collect::<Vec<_>>().join("\n"));
    std::fs::remove_file(&path)?;
    Ok(())
}
