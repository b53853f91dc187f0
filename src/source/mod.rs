//! Reading log files: opening plain, gzip and stdin inputs, splitting them into lines or chunks,
//! and recognising a file by content.

pub mod chunks;
pub mod identity;
pub mod input;
pub mod lines;

pub use input::{open, Input};
pub use lines::{Line, LineReader, MAX_LINE_BYTES};
