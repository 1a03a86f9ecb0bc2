//! The page's one module (Trunk `data-type="main"`). The simulation worker loads this same
//! module, so `main` starts whichever side it finds itself on.

fn main() {
    if poolsim_web::in_worker() {
        poolsim_web::worker::start();
    } else {
        poolsim_web::start_page();
    }
}
