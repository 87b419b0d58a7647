//! Exporters: encoders for the pull formats and the traits custom backends implement.

mod encode;
pub(crate) mod escape;
mod exporter;
mod view;

pub use crate::registry::{LabelPairs, SeriesLabels};
pub use encode::Format;
pub use exporter::{Exporter, ExporterError, PullExporter, PushExporter};
pub use view::{SeriesValue, SeriesView};
