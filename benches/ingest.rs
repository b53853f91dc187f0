//! The two halves of an import, each on its own: parsing and classifying chunks into rows (what
//! the parsing threads do), and committing parsed chunks to SQLite (what the writer thread does).
//! Unlike timing the whole `import`, these numbers do not move with how the two threads share
//! the cores.
//!
//! `cargo bench --bench ingest`. Set `LOGTALLY_BENCH_LINES` to change the log size (default 200,000).

use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use logtally::classify::Rules;
use logtally::classify::Salts;
#[path = "../tests/genlog/mod.rs"]
mod genlog;
use genlog::{generate_to_vec, Config};
use logtally::ingest::ChunkParser;
use logtally::model::ParsedChunk;
use logtally::parse::Format;
use logtally::source::chunks::{Chunk, ChunkReader};
use logtally::store::batch::{Progress, Writer};
use logtally::store::{files, Store};

fn chunks_of(log: &[u8]) -> Vec<Chunk> {
    let mut reader = ChunkReader::new(log, 0, 1, true);
    std::iter::from_fn(|| reader.next_chunk().expect("in memory")).collect()
}

fn parser() -> ChunkParser {
    ChunkParser {
        format: Format::Combined,
        site: None,
        tz: chrono_tz::UTC,
        salts: Arc::new(Salts::default()),
        geoip: None,
        rules: Arc::new(Rules::builtin()),
    }
}

fn ingest(c: &mut Criterion) {
    let n: u64 = std::env::var("LOGTALLY_BENCH_LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let log = generate_to_vec(&Config {
        lines: n,
        ..Config::default()
    });
    let chunks = chunks_of(&log);
    let parser = parser();
    let mut group = c.benchmark_group("ingest");
    group.throughput(Throughput::Elements(n));
    group.sample_size(10);
    group.bench_function("parse_and_classify", |b| {
        b.iter(|| {
            let rows: usize = chunks.iter().map(|c| parser.parse(c).rows.len()).sum();
            std::hint::black_box(rows)
        })
    });

    let parsed: Vec<ParsedChunk> = chunks.iter().map(|c| parser.parse(c)).collect();
    group.bench_function("commit_to_sqlite", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("temp dir");
                let store = Store::open(&dir.path().join("bench.db")).expect("database");
                let file = files::create(store.conn(), "bench.log", 1, None, false).expect("file");
                (dir, store, file.id)
            },
            |(dir, mut store, file_id)| {
                let mut writer = Writer::new();
                let progress = Progress {
                    file_id,
                    path: "bench.log",
                };
                for chunk in &parsed {
                    writer
                        .commit(store.conn_mut(), chunk, &progress)
                        .expect("commit");
                }
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
