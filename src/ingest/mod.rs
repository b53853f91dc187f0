//! The write path shared by `import` (and later `tail`): chunks of lines are parsed and classified
//! in parallel into compact rows ([`rows`]), then one writer commits each chunk in file order
//! together with the file's new offset ([`pipeline`]).

pub mod chunk_parser;
pub mod follow;
pub mod pipeline;
pub mod resume;
pub mod rows;

pub use chunk_parser::ChunkParser;
pub use rows::{LocalDict, ParsedChunk, Row};
