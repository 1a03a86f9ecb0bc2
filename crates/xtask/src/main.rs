//! Project tasks that need more than one cargo command: `cargo xtask <setup|test|serve>`.
//!
//! Everything runs from the workspace root, with the child commands' output passed through.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup   install what the build and tests need (wasm target, wasm-bindgen CLI, Node.js)
  test    setup, then format check, clippy (native and wasm), tests (native and wasm), benches build
  serve   setup, then run the default scenario and print its summary";

fn main() -> std::process::ExitCode {
    let task = std::env::args().nth(1);
    let result = match task.as_deref() {
        Some("setup") => setup(),
        Some("test") => test(),
        Some("serve") => serve(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => {
            eprintln!("{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `crates/xtask/../..`
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("xtask lives in crates/xtask")
        .to_path_buf()
}

/// The cargo that runs us (`cargo xtask` sets `CARGO`), so a pinned toolchain stays pinned.
fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn command(program: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(root());
    cmd
}

/// Runs `cmd` with inherited stdio; an error if it cannot start or exits non-zero.
fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start `{}`", shown(cmd)))?;
    if !status.success() {
        bail!("`{}` failed ({status})", shown(cmd));
    }
    Ok(())
}

/// `cargo clippy --workspace`, as a person would type it.
fn shown(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program());
    let name = program.file_name().unwrap_or(program.as_os_str());
    std::iter::once(name)
        .chain(cmd.get_args())
        .map(|part| part.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd` quietly and returns its stdout, or `None` if it cannot start or fails.
fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn setup() -> anyhow::Result<()> {
    wasm_target()?;
    wasm_bindgen_cli()?;
    node()
}

fn wasm_target() -> anyhow::Result<()> {
    const TARGET: &str = "wasm32-unknown-unknown";
    let installed = output(command("rustup").args(["target", "list", "--installed"]))
        .context("cannot list rust targets: is rustup installed?")?;
    if installed.lines().any(|line| line.trim() == TARGET) {
        println!("ok: {TARGET} target already installed");
        return Ok(());
    }
    println!("installing: {TARGET} target");
    run(command("rustup").args(["target", "add", TARGET]))
}

fn wasm_bindgen_cli() -> anyhow::Result<()> {
    let lock =
        std::fs::read_to_string(root().join("Cargo.lock")).context("cannot read Cargo.lock")?;
    let Some(version) = locked_version(&lock, "wasm-bindgen") else {
        println!("skip: no wasm-bindgen in Cargo.lock, so no wasm-bindgen CLI needed");
        return Ok(());
    };
    let found = output(command("wasm-bindgen").arg("--version"));
    if found.as_deref().map(str::trim) == Some(&format!("wasm-bindgen {version}")) {
        println!("ok: wasm-bindgen {version} already installed");
        return Ok(());
    }
    println!(
        "installing: wasm-bindgen-cli {version} (Cargo.lock's version; found {}), a few minutes",
        found.as_deref().map_or("none", str::trim)
    );
    // Not `--locked`: its lock file wants a webpki-roots version the registry lacks.
    run(cargo().args(["install", "wasm-bindgen-cli", "--version", &version]))
}

/// The version of `package` in a Cargo.lock (the first one, if several are locked).
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let name_line = format!("name = \"{package}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == name_line {
            let version = lines.next()?.trim();
            return version
                .strip_prefix("version = \"")?
                .strip_suffix('"')
                .map(str::to_owned);
        }
    }
    None
}

fn node() -> anyhow::Result<()> {
    if let Some(version) = output(command("node").arg("--version")) {
        println!("ok: Node.js {} already installed", version.trim());
        return Ok(());
    }
    let root_user = output(command("id").arg("-u")).is_some_and(|id| id.trim() == "0");
    if !root_user {
        bail!(
            "Node.js is missing (the wasm tests run under it): install the `nodejs` package, \
             e.g. `sudo apt-get install -y nodejs`, then run `cargo xtask setup` again"
        );
    }
    println!("installing: Node.js (apt-get)");
    run(command("apt-get").arg("update"))?;
    run(command("apt-get").args(["install", "-y", "nodejs"]))
}

fn test() -> anyhow::Result<()> {
    setup()?;
    let wasm = "wasm32-unknown-unknown";
    let steps: [&[&str]; 6] = [
        &["fmt", "--all", "--", "--check"],
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[
            "clippy",
            "-p",
            "poolsim-engine",
            "--target",
            wasm,
            "--",
            "-D",
            "warnings",
        ],
        &["test", "--workspace"],
        &["test", "-p", "poolsim-engine", "--target", wasm],
        &["bench", "--workspace", "--no-run"],
    ];
    for (i, args) in steps.iter().enumerate() {
        let title = format!("cargo {}", args.join(" "));
        println!("\n==> [{}/{}] {title}", i + 1, steps.len());
        #[expect(
            clippy::disallowed_methods,
            reason = "xtask times build steps; the no-clock rule is the simulation's"
        )]
        let start = std::time::Instant::now();
        if let Err(e) = run(cargo().args(*args)) {
            println!("\n{i} passed, 1 failed");
            return Err(e).context(format!("step {} of {} failed", i + 1, steps.len()));
        }
        println!("==> {title}: ok in {:.1}s", start.elapsed().as_secs_f64());
    }
    println!("\n{} passed, 0 failed", steps.len());
    Ok(())
}

fn serve() -> anyhow::Result<()> {
    setup()?;
    // Until the web page exists; then this becomes `trunk serve`.
    run(cargo().args([
        "run",
        "--release",
        "-p",
        "poolsim-cli",
        "--",
        "run",
        "tests/scenarios/default.json",
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_locked_version() {
        let lock = r#"
[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "wasm-bindgen-backend"
version = "0.2.99"
"#;
        assert_eq!(
            locked_version(lock, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            locked_version(lock, "wasm-bindgen-backend").as_deref(),
            Some("0.2.99")
        );
        assert_eq!(locked_version(lock, "serde"), None);
    }

    #[test]
    fn the_root_holds_the_workspace() {
        assert!(root().join("Cargo.toml").is_file());
        assert!(root().join("crates/xtask").is_dir());
    }
}
