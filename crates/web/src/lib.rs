//! The poolsim page: a Yew app and the web worker that runs simulations, one wasm module
//! (`bin/app.rs` starts either side), built by Trunk from the root `index.html`.
//!
//! The page holds the scenario as JSON (`state.rs`), draws its controls from a field table
//! (`form.rs`, `controls.rs`), keeps it in the URL (`url.rs`), has the worker run it in slices
//! (`protocol.rs`, `client.rs`, `worker.rs`) and draws the streamed series (`charts.rs` on
//! `chart.rs`) and the finished summary (`summary.rs`; its verdict and theory rows are `poolsim-explain`'s, shared with the CLI). `api.rs` is
//! `window.poolsim`. Modules without DOM access are tested natively.

pub mod after_action;
pub mod api;
pub mod app;
pub mod chart;
pub mod charts;
pub mod client;
pub mod controls;
pub mod embeddable;
pub mod exercise;
pub mod export;
pub mod form;
pub mod instances;
pub mod path;
pub mod playback;
pub mod presets;
pub mod protocol;
pub mod review;
pub mod sizing;
pub mod state;
pub mod summary;
pub mod tuning;
pub mod url;
pub mod worker;

/// `performance.now()` in the page; 0 outside a browser (native tests).
pub fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.performance())
            .map_or(0.0, |p| p.now())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

/// Cores the browser reports (`navigator.hardwareConcurrency`); 1 outside a browser.
pub fn hardware_concurrency() -> usize {
    web_sys::window().map_or(1, |w| w.navigator().hardware_concurrency() as usize)
}

/// True in a web worker (no `window`): the module was loaded to run simulations.
pub fn in_worker() -> bool {
    js_sys::Reflect::has(&js_sys::global(), &"WorkerGlobalScope".into()).unwrap_or(false)
        && web_sys::window().is_none()
}

/// Starts the page: `window.poolsim`, then the app in `<body>`.
pub fn start_page() {
    api::install();
    yew::Renderer::<app::App>::new().render();
}
