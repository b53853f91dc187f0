//! Reading log files: opening plain, gzip and stdin inputs, and splitting them into lines.

pub mod input;
pub mod lines;

pub use input::{open, Input};
pub use lines::{Line, LineReader, MAX_LINE_BYTES};
