fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let config = poolsim_scenario::load(&text).unwrap();
    let t = std::time::Instant::now();
    let report = poolsim_engine::run(&config).unwrap();
    let el = t.elapsed().as_secs_f64();
    println!("{}", serde_json::to_string_pretty(&report.summary).unwrap());
    eprintln!(
        "{:.3}s, {:.1} M events/s",
        el,
        report.summary.events as f64 / el / 1e6
    );
}
