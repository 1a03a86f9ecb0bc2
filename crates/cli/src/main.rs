//! `poolsim`: runs a scenario file (`run`) or a grid of variations of it (`sweep`).
//!
//! This is the edge of the program: it reads files, parses arguments, prints, and maps
//! failures to exit codes (0 success, 1 a run that failed, 2 input the user can fix).
//! Formatting lives in `text`, `csv` and `sweep`; the simulation in `poolsim-engine`.

mod advise;
mod check;
mod input;
mod parallel;
mod progress;
mod sweep;
mod text;

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use poolsim_engine::csv;

use poolsim_scenario::sweep::spec::{self, SetArg};

#[derive(Debug, Parser)]
#[command(
    name = "poolsim",
    version,
    about = "Simulate database connection pools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a scenario and print its summary (text or json) or its time series (csv).
    Run {
        /// The scenario file (JSON).
        scenario: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Use this seed instead of the scenario's.
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Find the smallest pool size meeting objectives, with the evidence for each size tried.
    /// Exits 1 when no size does (or none fits the database).
    Advise {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// An objective: METRIC=LIMIT with METRIC one of wait_p99, wait_p999, latency_p99
        /// (durations, e.g. 10ms) or failures (a share, e.g. 0.1%), met when the run's value
        /// is at most LIMIT (failures=0: none at all). Repeat for several.
        #[arg(long = "slo", value_name = "METRIC=LIMIT", required = true)]
        slos: Vec<poolsim_advisor::Slo>,
        /// Runs per pool size (seeds SEED, SEED+1, ...); a size passes only if all do.
        #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
        seeds: u32,
        /// The largest pool size to try.
        #[arg(long)]
        max_size: Option<u32>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Use this seed instead of the scenario's (for the first run of each size).
        #[arg(long)]
        seed: Option<u64>,
    },
    /// Review real pool settings (HikariCP properties, Spring application.properties or
    /// .yml, postgresql.conf) against a scenario's traffic and fleet: normal load, a spike,
    /// a failover and a rolling restart. Exits 1 when a risk breaks the objectives.
    Check {
        /// A configuration file; repeat for several (later files override earlier ones).
        #[arg(long = "config", value_name = "FILE", required = true)]
        configs: Vec<PathBuf>,
        /// A scenario giving the traffic and fleet (and what the files do not set); its
        /// faults are set aside for the review's own situations.
        #[arg(long)]
        scenario: Option<PathBuf>,
        /// The arrival rate over the fleet, per second (Poisson), instead of the scenario's.
        #[arg(long)]
        rate_per_s: Option<f64>,
        /// The number of app instances, instead of the scenario's.
        #[arg(long)]
        instances: Option<u32>,
        /// An objective, as for `advise` (default: failures=0.1%).
        #[arg(long = "slo", value_name = "METRIC=LIMIT")]
        slos: Vec<poolsim_advisor::Slo>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run a grid of variations of a scenario, in parallel, and print one row per point.
    Sweep {
        /// The scenario file (JSON).
        scenario: PathBuf,
        /// A field to vary: a dotted path into the scenario and its values, as a range
        /// `a..b:step` (numbers or durations, end included) or a list `v1,v2,v3`.
        /// Several --set flags make a grid; the first one varies slowest.
        #[arg(
            long = "set",
            value_name = "PATH=SPEC",
            required = true,
            value_parser = spec::parse_set,
        )]
        sets: Vec<SetArg>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Use this seed instead of the scenario's (a `--set seed=...` overrides it).
        #[arg(long)]
        seed: Option<u64>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Csv,
}

/// Why the program stops early, which decides the exit code.
#[derive(Debug)]
enum Failure {
    /// A bad scenario, argument or file: exit 2.
    Input(anyhow::Error),
    /// A valid scenario whose run stopped (event budget, too many in flight): exit 1.
    Run(anyhow::Error),
    /// Writing the output failed.
    Output(io::Error),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Output(e)
    }
}

fn main() -> ExitCode {
    // Ctrl-C stops a long run cleanly: the progress line is erased, stderr says so, and the
    // exit is 130 (128 + SIGINT) as a shell expects. Results go to stdout only once complete,
    // so a stopped run leaves no half-written table. Without a handler (it could not be set)
    // Ctrl-C still ends the process, just less tidily.
    let _ = ctrlc::set_handler(|| {
        progress::interrupted();
        std::process::exit(130);
    });
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            scenario,
            format,
            seed,
        } => run(&scenario, format, seed),
        Command::Sweep {
            scenario,
            sets,
            format,
            seed,
        } => sweep::sweep(&scenario, &sets, format, seed),
        Command::Check {
            configs,
            scenario,
            rate_per_s,
            instances,
            slos,
            format,
        } => {
            let args = check::CheckArgs {
                scenario,
                configs,
                rate_per_s,
                instances,
                slos,
                format,
            };
            match check::check(args) {
                Ok(true) => Ok(()),
                Ok(false) => return ExitCode::from(1),
                Err(e) => Err(e),
            }
        }
        Command::Advise {
            scenario,
            slos,
            seeds,
            max_size,
            format,
            seed,
        } => {
            let options = poolsim_advisor::Options {
                seeds,
                max_size,
                ..poolsim_advisor::Options::default()
            };
            match advise::advise(&scenario, &slos, options, format, seed) {
                Ok(true) => Ok(()),
                Ok(false) => return ExitCode::from(1),
                Err(e) => Err(e),
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
        // `poolsim run x.json --format csv | head` is not an error.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            eprintln!("error: cannot write the output: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(path: &std::path::Path, format: Format, seed: Option<u64>) -> Result<(), Failure> {
    let config = input::load(path, seed).map_err(Failure::Input)?;
    let report = progress::run(&config, progress::enabled()).map_err(|e| {
        Failure::Run(anyhow::anyhow!(
            "the run of {} stopped: {e}",
            path.display()
        ))
    })?;
    let out = match format {
        Format::Text => text::summary(&config, &report),
        Format::Json => json(&report.summary),
        Format::Csv => csv::series(&report.series),
    };
    write_stdout(&out)
}

fn json<T: serde::Serialize>(value: &T) -> String {
    let mut out = serde_json::to_string_pretty(value).expect("reports serialize to JSON");
    out.push('\n');
    out
}

fn write_stdout(text: &str) -> Result<(), Failure> {
    progress::writing();
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
