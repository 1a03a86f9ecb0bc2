//! `poolsim-fuzz`: the fuzz harness from the command line (`cargo xtask fuzz --cases N`).

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "poolsim-fuzz", about = "Fuzz every reader of untrusted input")]
struct Args {
    /// How many cases to run.
    #[arg(long, default_value_t = 100_000)]
    cases: u64,
    /// The run's seed: the same seed and case number give the same input.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Replay one case and print its input.
    #[arg(long)]
    case: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(case) = args.case {
        let (target, result, _) = poolsim_fuzz::case(args.seed, case);
        return match result {
            Ok(()) => {
                println!("case {case} ({target}) passes");
                ExitCode::SUCCESS
            }
            Err(f) => {
                println!("case {case} ({target}): {}\ninput:\n{}", f.problem, f.input);
                ExitCode::FAILURE
            }
        };
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let cases = args.cases;
    // Ctrl-C: no new case starts, the summary covers what ran; a second Ctrl-C exits at once.
    static STOP: AtomicBool = AtomicBool::new(false);
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    let out = poolsim_fuzz::run(args.seed, cases, threads, &STOP, &|done| {
        if done % 10_000 == 0 {
            eprint!("\r{done} of {cases} cases");
            let _ = std::io::stderr().flush();
        }
    });
    eprintln!();
    let per: Vec<String> = poolsim_fuzz::Target::ALL
        .iter()
        .zip(&out.per_target)
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    println!(
        "{} cases in {:.1} s (seed {}): {}\nscenarios: {} refused, {} stopped at a bound, {} \
         run to their end (invariants checked)",
        out.cases,
        out.elapsed.as_secs_f64(),
        args.seed,
        per.join(", "),
        out.refused,
        out.stopped,
        out.runs
    );
    for f in out.findings.iter().take(20) {
        println!(
            "case {} ({}): {}\n  input: {:?}",
            f.case, f.target, f.problem, f.input
        );
    }
    let stopped = STOP.load(Ordering::SeqCst);
    if stopped {
        println!("stopped by Ctrl-C after {} of {cases} cases", out.cases);
    }
    if out.findings.is_empty() {
        if stopped {
            ExitCode::from(130)
        } else {
            ExitCode::SUCCESS
        }
    } else {
        println!(
            "{} findings; replay one with --seed {} --case N",
            out.findings.len(),
            args.seed
        );
        ExitCode::FAILURE
    }
}
