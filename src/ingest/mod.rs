//! The write path of `import` and `tail`: chunks of lines are parsed and classified into compact
//! rows ([`crate::model`], [`chunk_parser`]) and committed together with their file's new offset.
//! `import` reads whole files ([`pipeline`]); `tail` follows them ([`follow`], the run loop, with
//! [`discover`], [`followed`], [`buffer`] and [`notice`]). Both decide where a known file resumes
//! by one rule ([`resume`]).

pub mod buffer;
pub mod chunk_parser;
pub mod discover;
pub mod follow;
pub mod followed;
pub mod notice;
pub mod pipeline;
pub mod resume;

pub use chunk_parser::ChunkParser;
