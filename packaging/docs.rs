//! Writes the man page and the shell completions from the command line's own definition,
//! so the packages never describe options the binary does not have:
//!
//! ```sh
//! cargo run --example package-docs -- target/packaging
//! ```
//!
//! gives `pyrus-phone.1` and `completions/{pyrus-phone.bash,_pyrus-phone,pyrus-phone.fish}`
//! under the folder named.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::CommandFactory as _;
use clap_complete::Shell;
use pyrus_phone::cli::Cli;

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: package-docs OUT_DIR (the man page and completions are written there)");
        return ExitCode::from(2);
    };
    match write_all(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!(
                "error: cannot write the man page and completions under {}: {e}",
                out.display()
            );
            ExitCode::from(1)
        }
    }
}

fn write_all(out: &Path) -> std::io::Result<()> {
    let completions = out.join("completions");
    std::fs::create_dir_all(&completions)?;
    let command = Cli::command();
    let name = command.get_name().to_owned();

    let mut page = BufWriter::new(File::create(out.join(format!("{name}.1")))?);
    clap_mangen::Man::new(command.clone())
        .section("1")
        .manual("User Commands")
        .source(format!("{name} {}", env!("CARGO_PKG_VERSION")))
        .render(&mut page)?;
    page.flush()?;

    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let written = clap_complete::generate_to(shell, &mut command.clone(), &name, &completions)?;
        println!("{}", written.display());
    }
    println!("{}", out.join(format!("{name}.1")).display());
    Ok(())
}
