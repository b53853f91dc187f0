//! Parser throughput on generated logs: lines per second on one core, for each format.
//!
//! `cargo bench --bench parse`. Set `LOGTALLY_BENCH_LINES` to change the log size (default 1,000,000).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
#[path = "../tests/genlog/mod.rs"]
mod genlog;
use genlog::{generate_to_vec, Config, GenFormat};
use logtally::parse::{Format, NginxFormat};

fn lines_of(buf: &[u8]) -> Vec<&[u8]> {
    buf.split(|c| *c == b'\n')
        .filter(|l| !l.is_empty())
        .collect()
}

fn bench_format(c: &mut Criterion, name: &str, format: &Format, log: &[u8]) {
    let lines = lines_of(log);
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.sample_size(10);
    group.bench_function(name, |b| {
        b.iter(|| {
            let mut ok = 0u64;
            for l in &lines {
                if let Ok(hit) = format.parse(l) {
                    ok += hit.status as u64;
                }
            }
            std::hint::black_box(ok)
        })
    });
    group.finish();
}

fn parse(c: &mut Criterion) {
    let n = std::env::var("LOGTALLY_BENCH_LINES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let combined = generate_to_vec(&Config {
        lines: n,
        ..Config::default()
    });
    bench_format(c, "combined", &Format::Combined, &combined);
    let nginx = NginxFormat::compile(
        r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#,
    )
    .expect("valid format");
    bench_format(
        c,
        "nginx_log_format_combined",
        &Format::Nginx(nginx),
        &combined,
    );
    let caddy = generate_to_vec(&Config {
        lines: n / 2,
        format: GenFormat::Caddy,
        ..Config::default()
    });
    bench_format(c, "caddy", &Format::Caddy, &caddy);
}

criterion_group!(benches, parse);
criterion_main!(benches);
