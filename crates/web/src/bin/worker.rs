//! The simulation worker's entry point (Trunk `data-type="worker"`).

fn main() {
    poolsim_web::worker::start();
}
