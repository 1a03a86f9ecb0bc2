//! The page's entry point (Trunk `data-type="main"`).

fn main() {
    poolsim_web::start_page();
}
