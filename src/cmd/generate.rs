//! `logtally generate`: writes the man pages (`man/`) and shell completions (`completions/`) from
//! the clap definition, so they can never drift from the real flags. A test compares the committed
//! files with what this writes.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap_complete::Shell;

use crate::exit::ExitCode;

/// Arguments of `logtally generate` (hidden: for maintainers and packagers).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Folder to write `man/` and `completions/` into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
}

/// Every generated file as (relative path, content).
/// `cmd` is the whole command line's definition (`cli::Cli`).
pub fn files(cmd: &clap::Command) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    let mut out = Vec::new();
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
    out.push((PathBuf::from("man/logtally.1"), page));
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = format!("logtally-{}", sub.get_name());
        let sub = sub
            .clone()
            .name(name.clone())
            .version(cmd.get_version().unwrap_or_default().to_string());
        let mut page = Vec::new();
        clap_mangen::Man::new(sub).render(&mut page)?;
        out.push((PathBuf::from(format!("man/{name}.1")), page));
    }
    for (shell, file) in [
        (Shell::Bash, "logtally.bash"),
        (Shell::Zsh, "_logtally"),
        (Shell::Fish, "logtally.fish"),
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd.clone(), "logtally", &mut script);
        out.push((PathBuf::from(format!("completions/{file}")), script));
    }
    Ok(out)
}

fn write_all(root: &Path, cmd: &clap::Command) -> Result<usize> {
    let files = files(cmd)?;
    for (rel, content) in &files {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        fs::write(&path, content).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(files.len())
}

/// Runs `logtally generate` for the command line `cmd` (`cli::Cli::command()`).
pub fn run(args: Args, cmd: &clap::Command) -> Result<ExitCode> {
    let n = write_all(&args.out, cmd)?;
    eprintln!("wrote {n} files under {}", args.out.display());
    Ok(ExitCode::Success)
}
