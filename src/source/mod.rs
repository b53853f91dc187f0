//! Reading log files: opening plain, gzip and stdin inputs, splitting them into lines or chunks,
//! recognising a file by content, and following files as they grow and rotate.

pub mod chunks;
pub mod follower;
pub mod identity;
pub mod input;
pub mod lines;
pub mod paths;
pub mod watcher;

pub use input::{open, Input};
pub use lines::{Line, LineReader, MAX_LINE_BYTES};
