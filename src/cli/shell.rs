//! `fdbench completions SHELL` and `fdbench man`: shell completions (clap_complete) and
//! man pages (clap_mangen), generated from the same definitions as `--help`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::CommandFactory;

use fdbench::output::write_atomic;

/// Prints a completion script for a shell.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    fdbench completions bash > fdbench.bash
    fdbench completions zsh -o _fdbench")]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
    /// Where to write the script (`-` = stdout).
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
}

/// Writes the man pages: `fdbench.1`, and `fdbench-COMMAND.1` for each subcommand with `-o`.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    fdbench man > fdbench.1
    fdbench man -o man/")]
pub struct ManArgs {
    /// A folder for every page (created if missing); `-` prints `fdbench.1` to stdout.
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
}

fn emit(path: &Path, fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    write_atomic(path, fill).with_context(|| format!("writing {}", path.display()))
}

/// Runs `fdbench completions`.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<()> {
    emit(&args.output, |out| {
        clap_complete::generate(args.shell, &mut super::Cli::command(), "fdbench", out);
        Ok(())
    })
}

/// Runs `fdbench man`.
pub fn man(args: ManArgs) -> anyhow::Result<()> {
    let cmd = super::Cli::command();
    if args.output.as_os_str() == "-" {
        return emit(&args.output, |out| clap_mangen::Man::new(cmd.clone()).render(out));
    }
    std::fs::create_dir_all(&args.output).with_context(|| format!("creating {}", args.output.display()))?;
    emit(&args.output.join("fdbench.1"), |out| {
        clap_mangen::Man::new(cmd.clone()).render(out)
    })?;
    for sub in cmd.get_subcommands() {
        let name = format!("fdbench-{}", sub.get_name());
        let page = clap_mangen::Man::new(sub.clone()).title(name.as_str());
        emit(&args.output.join(format!("{name}.1")), |out| page.render(out))?;
    }
    Ok(())
}
