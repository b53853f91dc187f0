//! End-to-end tests of `logtally check` on real fixtures: counts, reject reasons, exit codes.

mod common;

use common::{fixture, json, Env};
use predicates::prelude::*;
use serde_json::Value;

const PIPE_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"|$request_time|$upstream_response_time"#;
const INGRESS_FORMAT: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"#;

fn check_json(env: &Env, args: &[&str], code: i32) -> Value {
    json(env.cmd().arg("check").arg("--json").args(args), code)
}

/// Reject line numbers by reason code, from the first few samples.
fn reject_lines(total: &Value) -> Vec<(String, u64, Vec<u64>)> {
    total["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let lines = r["samples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["line"].as_u64().unwrap())
                .collect();
            (
                r["reason"].as_str().unwrap().to_string(),
                r["count"].as_u64().unwrap(),
                lines,
            )
        })
        .collect()
}

/// (fixture, extra args, format, parsed, [(reason, count, first lines)]).
type Case = (
    &'static str,
    &'static [&'static str],
    &'static str,
    u64,
    &'static [ExpectedReject],
);
type ExpectedReject = (&'static str, u64, &'static [u64]);

#[test]
fn every_real_fixture_parses_except_its_truly_malformed_lines() {
    let env = Env::new();
    let cases: &[Case] = &[
        ("nginx-combined-bots.log", &[], "combined", 900, &[]),
        ("apache-combined-ipv6.log", &[], "combined", 101, &[]),
        (
            "apache-combined-trailing-space.log",
            &[],
            "combined",
            129,
            &[],
        ),
        ("nginx-main-forwarded.log", &[], "combined", 200, &[]),
        (
            "apache-combined-truncated.log",
            &[],
            "combined",
            100,
            &[("unterminated-quote", 1, &[50])],
        ),
        (
            "nginx-combined-error-lines.log",
            &[],
            "combined",
            56,
            &[("no-timestamp", 4, &[3, 12, 21])],
        ),
        (
            "nginx-combined-gzip-garbage.log",
            &[],
            "combined",
            170,
            &[("no-timestamp", 30, &[170, 171, 172])],
        ),
        ("caddy-json-mirror.log", &[], "caddy", 4, &[]),
        (
            "caddy-json-crowdsec.log",
            &[],
            "caddy",
            16,
            &[("not-access-entry", 1, &[11])],
        ),
        (
            "caddy-json-docker-prefixed.log",
            &[],
            "caddy",
            4,
            &[("not-access-entry", 35, &[1, 2, 3])],
        ),
        (
            "nginx-custom-pipe-requesttime.log",
            &["--log-format", PIPE_FORMAT],
            "nginx log_format",
            199,
            &[],
        ),
        (
            "nginx-custom-ingress-upstreaminfo.log",
            &["--log-format", INGRESS_FORMAT],
            "nginx log_format",
            29,
            &[],
        ),
    ];
    for (name, extra, format, parsed, rejects) in cases {
        let path = fixture(name);
        let mut args: Vec<&str> = extra.to_vec();
        args.extend(["--max-reject-ratio", "1", path.to_str().unwrap()]);
        let v = check_json(&env, &args, 0);
        let file = &v["files"][0];
        assert_eq!(file["format"], *format, "{name}");
        assert_eq!(file["parsed"], *parsed, "{name}");
        let expected: Vec<(String, u64, Vec<u64>)> = rejects
            .iter()
            .map(|(r, c, l)| (r.to_string(), *c, l.to_vec()))
            .collect();
        assert_eq!(reject_lines(file), expected, "{name}");
    }
}

#[test]
fn text_report_names_format_counts_range_and_samples() {
    let env = Env::new();
    env.cmd()
        .args(["check", "--max-reject-ratio", "0.05"])
        .arg(fixture("nginx-combined-error-lines.log"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("format      combined (detected)"))
        .stdout(predicate::str::contains(
            "60 (56 parsed, 4 rejected = 6.67%, 0 blank)",
        ))
        .stdout(predicate::str::contains(
            "time range  2015-05-17 08:05:01 UTC .. 2015-05-17 08:05:59 UTC",
        ))
        .stdout(predicate::str::contains("reject no-timestamp"))
        .stdout(predicate::str::contains("      3: Error line 1"))
        .stdout(predicate::str::contains("lines/s"))
        .stdout(predicate::str::contains("FAILED: 6.67% of lines rejected"));
}

#[test]
fn reject_ratio_decides_the_exit_code() {
    let env = Env::new();
    let f = fixture("apache-combined-truncated.log"); // 1 reject in 101 lines = 0.99%
    env.cmd().arg("check").arg(&f).assert().code(0);
    env.cmd()
        .args(["check", "--max-reject-ratio", "0.005"])
        .arg(&f)
        .assert()
        .code(1);
    env.cmd()
        .args(["check", "--max-reject-ratio", "2"])
        .arg(&f)
        .assert()
        .code(2);
}

#[test]
fn gzip_and_stdin_give_the_same_counts_as_the_plain_file() {
    use std::io::Write;
    let env = Env::new();
    let plain = std::fs::read(fixture("nginx-combined-bots.log")).unwrap();
    let gz = env.path("access.log.2.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(&plain).unwrap();
    enc.finish().unwrap();
    let from_gz = check_json(&env, &[gz.to_str().unwrap()], 0);
    let from_stdin = json(
        env.cmd().args(["check", "--json", "-"]).write_stdin(plain),
        0,
    );
    for v in [&from_gz, &from_stdin] {
        assert_eq!(v["total"]["parsed"], 900);
        assert_eq!(v["total"]["first"], "2022-09-01T22:12:45+00:00");
        assert_eq!(v["total"]["last"], from_gz["total"]["last"]);
    }
    assert_eq!(from_stdin["files"][0]["file"], "<stdin>");
}

#[test]
fn several_files_are_totalled_and_a_missing_one_fails_without_stopping_the_others() {
    let env = Env::new();
    let a = fixture("nginx-combined-bots.log");
    let b = fixture("caddy-json-mirror.log");
    let v = check_json(&env, &[a.to_str().unwrap(), b.to_str().unwrap()], 0);
    assert_eq!(
        (
            v["files"][0]["format"].as_str(),
            v["files"][1]["format"].as_str()
        ),
        (Some("combined"), Some("caddy"))
    );
    assert_eq!(v["total"]["parsed"], 904);

    env.cmd()
        .arg("check")
        .arg(&a)
        .arg(env.path("missing.log"))
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("cannot open").and(predicate::str::contains("missing.log")),
        )
        .stdout(predicate::str::contains("900 parsed"));
}

#[test]
fn a_wrong_format_is_caught_by_the_reject_ratio() {
    let env = Env::new();
    let v = check_json(
        &env,
        &[
            "--format",
            "caddy",
            fixture("nginx-combined-bots.log").to_str().unwrap(),
        ],
        1,
    );
    assert_eq!(v["total"]["rejected"], 900);
    assert_eq!(v["passed"], false);
}

#[test]
fn undetectable_file_and_bad_log_format_explain_the_fix() {
    let env = Env::new();
    let junk = env.write("junk.log", "hello world\nsecond line\n");
    env.cmd().arg("check").arg(&junk).assert().code(1).stderr(
        predicate::str::contains("cannot tell the log format")
            .and(predicate::str::contains("--format or --log-format")),
    );
    env.cmd()
        .args(["check", "--log-format", "$remote_addr $status"])
        .arg(&junk)
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("invalid --log-format")
                .and(predicate::str::contains("$time_local")),
        );
}

#[test]
fn binary_garbage_a_huge_line_and_a_truncated_last_line_never_crash() {
    let env = Env::new();
    let mut data = std::fs::read(fixture("nginx-combined-bots.log")).unwrap();
    data.extend((0..=255u8).cycle().take(5000));
    data.push(b'\n');
    data.extend(std::iter::repeat_n(b'A', 3 << 20));
    data.push(b'\n');
    data.extend_from_slice(
        br#"1.2.3.4 - - [01/Sep/2022:22:12:45 +0000] "GET /x HTTP/1.1" 200 5 "-" "cut"#,
    );
    let f = env.write("mixed.log", &data);
    let v = check_json(&env, &["--max-reject-ratio", "1", f.to_str().unwrap()], 0);
    assert_eq!(v["total"]["parsed"], 900);
    let reasons: Vec<&str> = v["total"]["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"too-long"), "{reasons:?}");
    assert!(reasons.contains(&"unterminated-quote"), "{reasons:?}");
}
