//! Project tasks that need more than one cargo command: `cargo xtask <setup|test|serve>`.
//!
//! Everything runs from the workspace root, with the child commands' output passed through.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  setup   install what is missing: wasm target, wasm-bindgen CLI, Trunk, Node.js and npm,
          Chromium and chromedriver (Debian packages), the npm packages (wasm-opt, Playwright)
  test    setup, then format check, clippy (native and wasm), tests (native, wasm in Node,
          components in headless Chromium), benches build, the page's release build and its
          end-to-end browser tests
  serve   setup, then build the page and serve it at http://127.0.0.1:8080/
  bench   setup, then the engine benchmarks (criterion) and the browser benchmark
  fuzz    the fuzz harness, long: `cargo xtask fuzz --cases 1000000 [--seed S]`, or one case
          replayed with `--case N` (the test command runs 30,000 cases)";

/// Trunk's version, pinned (0.22 needs a newer rustc than this project's).
const TRUNK: &str = "0.21.14";
/// The browser tests need at least this Node.js major version: Debian 12's own `nodejs` is 18,
/// and `playwright-core` is pinned at 1.61.0, the last release that declares `node >= 18`.
const NODE_MAJOR: u32 = 18;
const WASM: &str = "wasm32-unknown-unknown";

fn main() -> std::process::ExitCode {
    let task = std::env::args().nth(1);
    let result = match task.as_deref() {
        Some("setup") => setup(),
        Some("test") => test(),
        Some("serve") => serve(),
        Some("bench") => bench(),
        Some("fuzz") => fuzz(std::env::args().skip(2).collect()),
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

/// `PATH` with the project's `node_modules/.bin` first (Trunk finds `wasm-opt` there).
fn path_with_node_bin() -> std::ffi::OsString {
    let bin = root().join("node_modules").join(".bin");
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&rest))).unwrap_or(rest)
}

/// A tool run with the project's `node_modules/.bin` on `PATH`.
fn tool(program: &str) -> Command {
    let mut cmd = command(program);
    cmd.env("PATH", path_with_node_bin());
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
    trunk()?;
    debian_packages()?;
    npm_packages()
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

fn trunk() -> anyhow::Result<()> {
    let found = output(command("trunk").arg("--version"));
    if found.as_deref().map(str::trim) == Some(&format!("trunk {TRUNK}")) {
        println!("ok: trunk {TRUNK} already installed");
        return Ok(());
    }
    println!(
        "installing: trunk {TRUNK} (found {}), about 7 minutes on 2 cores",
        found.as_deref().map_or("none", str::trim)
    );
    run(cargo().args(["install", "--locked", &format!("trunk@{TRUNK}")]))
}

/// Debian packages: Node.js and npm (the browser tests), Chromium and its WebDriver (the
/// browser the tests drive; never a downloaded one).
fn debian_packages() -> anyhow::Result<()> {
    let have = |program: &str| output(command(program).arg("--version")).is_some();
    let mut missing = Vec::new();
    if !have("node") {
        missing.push("nodejs");
    }
    if !have("npm") {
        missing.push("npm");
    }
    if !Path::new(CHROMIUM).is_file() {
        missing.push("chromium");
    }
    if !have("chromedriver") {
        missing.push("chromium-driver");
    }
    if missing.is_empty() {
        println!("ok: Node.js, npm, Chromium and chromedriver already installed");
    } else {
        let root_user = output(command("id").arg("-u")).is_some_and(|id| id.trim() == "0");
        if !root_user {
            bail!(
                "missing Debian packages: {list}. Install them (`sudo apt-get install -y {list}`), \
                 then run `cargo xtask setup` again",
                list = missing.join(" ")
            );
        }
        println!("installing: {} (apt-get)", missing.join(" "));
        run(command("apt-get").arg("update"))?;
        run(command("apt-get").args(["install", "-y"]).args(&missing))?;
    }
    let version = output(command("node").arg("--version")).unwrap_or_default();
    let major = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .unwrap_or(0);
    if major < NODE_MAJOR {
        bail!(
            "Node.js {} is too old: the browser tests' Playwright needs {NODE_MAJOR} or newer",
            version.trim()
        );
    }
    Ok(())
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// `npm ci` when `package-lock.json` differs from what was last installed.
fn npm_packages() -> anyhow::Result<()> {
    let lock =
        std::fs::read(root().join("package-lock.json")).context("cannot read package-lock.json")?;
    let stamp = root()
        .join("node_modules")
        .join(".poolsim-installed-lock.json");
    if std::fs::read(&stamp).ok().as_deref() == Some(&lock[..]) {
        println!("ok: npm packages already installed (package-lock.json)");
        return Ok(());
    }
    println!("installing: npm packages from package-lock.json (wasm-opt, playwright-core)");
    run(command("npm").args(["ci", "--no-audit", "--no-fund"]))?;
    std::fs::write(&stamp, &lock).context("cannot write the npm install stamp")
}

/// One step of `cargo xtask test`: a title and the command.
struct Step {
    title: String,
    cmd: Command,
}

fn cargo_step(args: &[&str]) -> Step {
    let mut cmd = cargo();
    cmd.args(args);
    Step {
        title: format!("cargo {}", args.join(" ")),
        cmd,
    }
}

fn tool_step(program: &str, args: &[&str]) -> Step {
    let mut cmd = tool(program);
    cmd.args(args);
    Step {
        title: format!("{program} {}", args.join(" ")),
        cmd,
    }
}

fn test() -> anyhow::Result<()> {
    setup()?;
    let deny = ["--", "-D", "warnings"];
    let steps = vec![
        cargo_step(&["fmt", "--all", "--", "--check"]),
        cargo_step(&[&["clippy", "--workspace", "--all-targets"][..], &deny].concat()),
        cargo_step(
            &[
                &["clippy", "-p", "poolsim-engine", "--target", WASM][..],
                &deny,
            ]
            .concat(),
        ),
        cargo_step(
            &[
                &[
                    "clippy",
                    "-p",
                    "poolsim-web",
                    "--target",
                    WASM,
                    "--all-targets",
                ][..],
                &deny,
            ]
            .concat(),
        ),
        cargo_step(&["test", "--workspace"]),
        // The engine's determinism in Node; the page's components in headless Chromium.
        cargo_step(&["test", "-p", "poolsim-engine", "--target", WASM]),
        cargo_step(&[
            "test",
            "-p",
            "poolsim-web",
            "--target",
            WASM,
            "--test",
            "browser",
        ]),
        // The crates with benchmarks (a workspace-wide bench build would also build the page
        // natively with fat LTO, for nothing).
        cargo_step(&[
            "bench",
            "-p",
            "poolsim-engine",
            "-p",
            "poolsim-advisor",
            "--no-run",
        ]),
        // The end-to-end tests compare the page's digests with the release CLI's.
        cargo_step(&["build", "--release", "-p", "poolsim-cli"]),
        tool_step("trunk", &["build", "--release"]),
        tool_step("node", &["--test", "web/e2e/page.test.mjs"]),
    ];
    run_steps(steps)
}

fn run_steps(steps: Vec<Step>) -> anyhow::Result<()> {
    let total = steps.len();
    for (i, mut step) in steps.into_iter().enumerate() {
        println!("\n==> [{}/{total}] {}", i + 1, step.title);
        #[expect(
            clippy::disallowed_methods,
            reason = "xtask times build steps; the no-clock rule is the simulation's"
        )]
        let start = std::time::Instant::now();
        if let Err(e) = run(&mut step.cmd) {
            println!("\n{i} passed, 1 failed");
            return Err(e).context(format!("step {} of {total} failed", i + 1));
        }
        println!(
            "==> {}: ok in {:.1}s",
            step.title,
            start.elapsed().as_secs_f64()
        );
    }
    println!("\n{total} passed, 0 failed");
    Ok(())
}

fn serve() -> anyhow::Result<()> {
    setup()?;
    println!("\nserving the page at http://127.0.0.1:8080/ (Ctrl-C stops)");
    run(tool("trunk").args(["serve", "--release"]))
}

fn bench() -> anyhow::Result<()> {
    setup()?;
    run_steps(vec![
        cargo_step(&["bench", "-p", "poolsim-engine", "-p", "poolsim-advisor"]),
        cargo_step(&["build", "--release", "-p", "poolsim-cli"]),
        tool_step("trunk", &["build", "--release"]),
        tool_step("node", &["web/bench/bench.mjs"]),
    ])
}

/// The harness built optimised, its arguments passed through.
fn fuzz(args: Vec<String>) -> anyhow::Result<()> {
    run(cargo()
        .args(["run", "--release", "-p", "poolsim-fuzz", "--"])
        .args(args))
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
