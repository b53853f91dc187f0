//! Reports read whatever else happens to the database: while another process holds the write
//! lock, as a user who may only read the file, and from a database nobody may write.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::Env;

/// A rolled-up database of the bundled sample, in a folder `db/` of its own.
fn sample_db(env: &Env) -> std::path::PathBuf {
    let db = env.path("db/logtally.db");
    env.cmd()
        .args(["import", "--tz", "UTC", "--db"])
        .arg(&db)
        .arg(common::fixture("nginx-combined-bots.log"))
        .assert()
        .success();
    env.cmd()
        .args(["rollup", "--tz", "UTC", "--db"])
        .arg(&db)
        .assert()
        .success();
    db
}

fn overview(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice::<serde_json::Value>(out).expect("JSON report")["overview"].clone()
}

#[test]
fn stats_reads_while_another_process_holds_the_write_lock() {
    let env = Env::new();
    let db = sample_db(&env);
    let expected = common::json(
        env.cmd()
            .args([
                "stats", "--tz", "UTC", "--period", "all", "--format", "json", "--db",
            ])
            .arg(&db),
        0,
    )["overview"]
        .clone();
    let mut writer = rusqlite::Connection::open(&db).unwrap();
    let tx = writer
        .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
        .unwrap();
    for refresh in [&["--no-refresh"][..], &[]] {
        let started = std::time::Instant::now();
        let out = env
            .cmd()
            .args([
                "stats", "--tz", "UTC", "--period", "all", "--format", "json",
            ])
            .args(refresh)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{refresh:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(overview(&out.stdout), expected, "{refresh:?}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{refresh:?}: answered without waiting out the lock"
        );
    }
    tx.rollback().unwrap();
}

/// Runs `logtally ARGS` as the user `nobody` in the group of the database's owner (root), the
/// setup of a web or reporting user given read access to a 0640 database.
fn as_group_reader(env: &Env, args: &[&str]) -> std::process::Output {
    std::process::Command::new("runuser")
        .args(["-u", "nobody", "-g", "root", "--"])
        .arg(assert_cmd::cargo::cargo_bin("logtally"))
        .args(args)
        .env_clear()
        .env("HOME", env.dir.path())
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .current_dir(env.dir.path())
        .output()
        .expect("runuser")
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn stats_reads_a_database_this_user_may_not_write() {
    let env = Env::new();
    let db = sample_db(&env);
    let db_arg = db.to_str().unwrap();
    let args = [
        "stats", "--tz", "UTC", "--period", "all", "--format", "json", "--db", db_arg,
    ];
    let expected = common::json(env.cmd().args(args), 0)["overview"].clone();
    let folder = db.parent().unwrap();
    let set_mode = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let out = if is_root() {
        // Root may write anything: read as another user of the database's group instead.
        set_mode(env.dir.path(), 0o755);
        set_mode(folder, 0o750);
        set_mode(&db, 0o640);
        as_group_reader(&env, &args)
    } else {
        set_mode(&db, 0o440);
        set_mode(folder, 0o550);
        env.cmd().args(args).output().unwrap()
    };
    set_mode(folder, 0o750);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(overview(&out.stdout), expected);
    assert!(
        out.stderr.is_empty(),
        "no refresh attempted, no complaint: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_time_zone_other_than_the_databases_is_refused_by_every_command() {
    let env = Env::new();
    let db = sample_db(&env);
    for args in [
        &["stats", "--tz", "Europe/Berlin"][..],
        &["rollup", "--tz", "Europe/Berlin"],
        &["cleanup", "--tz", "America/New_York"],
        &["import", "--tz", "Asia/Tokyo", "-"],
    ] {
        let out = env
            .cmd()
            .args(args)
            .arg("--db")
            .arg(&db)
            .write_stdin("")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains("records its days in the time zone UTC") && stderr.contains("--tz UTC"),
            "{args:?}: {stderr}"
        );
    }
    // The zone travels with the database: TZ of the environment is a zone too.
    let out = env
        .cmd()
        .env("TZ", "Europe/Paris")
        .args(["rollup", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // And the recorded zone itself is fine.
    env.cmd()
        .args(["rollup", "--tz", "UTC", "--db"])
        .arg(&db)
        .assert()
        .success();
}
