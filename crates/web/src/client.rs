//! The page's side of a simulation worker: spawns it, holds messages until it is ready, and
//! hands each answer to a callback.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker, WorkerOptions, WorkerType};

use crate::protocol::{FromWorker, ToWorker};

/// The page's own module as Trunk writes it next to `index.html` (`filehash = false`): the
/// worker runs the same code, whose `main` sees it is in a worker and starts the simulator.
const SCRIPT: &str = "poolsim-app.js";
const MODULE: &str = "poolsim-app_bg.wasm";

pub struct Client {
    worker: Worker,
    /// Messages sent before the worker said it was ready (it would drop them).
    waiting: Rc<RefCell<Option<Vec<String>>>>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::ErrorEvent)>,
    /// The worker reported an error and is gone: start another.
    dead: Rc<std::cell::Cell<bool>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl Client {
    /// Starts a worker; `on_message` gets everything it sends back.
    pub fn spawn(on_message: impl FnMut(FromWorker) + 'static) -> Result<Client, String> {
        let on_message = Rc::new(RefCell::new(on_message));
        let worker =
            new_worker().map_err(|e| format!("cannot start the simulation worker: {e:?}"))?;
        let waiting: Rc<RefCell<Option<Vec<String>>>> = Rc::new(RefCell::new(Some(Vec::new())));
        let handler = {
            let worker = worker.clone();
            let waiting = waiting.clone();
            let on_message = on_message.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                let Some(message) = crate::protocol::read::<FromWorker>(&event) else {
                    return;
                };
                if message == FromWorker::Ready {
                    for queued in waiting.borrow_mut().take().unwrap_or_default() {
                        let _ = worker.post_message(&JsValue::from_str(&queued));
                    }
                } else if let Ok(mut f) = on_message.try_borrow_mut() {
                    f(message);
                }
            })
        };
        worker.set_onmessage(Some(handler.as_ref().unchecked_ref()));
        let dead = Rc::new(std::cell::Cell::new(false));
        let on_error = {
            let on_message = on_message.clone();
            let dead = dead.clone();
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |e: web_sys::ErrorEvent| {
                dead.set(true);
                let message = format!("the simulation worker stopped: {}", e.message());
                if let Ok(mut f) = on_message.try_borrow_mut() {
                    f(FromWorker::Crashed { message });
                }
            })
        };
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Client {
            worker,
            waiting,
            _on_message: handler,
            _on_error: on_error,
            dead,
        })
    }

    pub fn is_dead(&self) -> bool {
        self.dead.get()
    }

    /// Sends `messages` to the worker kept in `slot`, first starting one (answering to the
    /// handler `on_message` makes) if there is none or it died. A view's own worker.
    pub fn send_via<F: FnMut(FromWorker) + 'static>(
        slot: &RefCell<Option<Client>>,
        on_message: impl FnOnce() -> F,
        messages: &[ToWorker],
    ) -> Result<(), String> {
        if slot.borrow().as_ref().is_none_or(Client::is_dead) {
            *slot.borrow_mut() = Some(Client::spawn(on_message())?);
        }
        if let Some(c) = slot.borrow().as_ref() {
            for m in messages {
                c.send(m);
            }
        }
        Ok(())
    }

    pub fn send(&self, message: &ToWorker) {
        let Ok(text) = serde_json::to_string(message) else {
            return;
        };
        match self.waiting.borrow_mut().as_mut() {
            Some(queue) => queue.push(text),
            None => {
                let _ = self.worker.post_message(&JsValue::from_str(&text));
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

/// A module worker whose script loads the page's wasm-bindgen glue and module by absolute URL,
/// so the page works under any sub-path.
fn new_worker() -> Result<Worker, JsValue> {
    let document = document()?;
    let base = document.base_uri()?.unwrap_or_default();
    let url = |file: &str| Url::new_with_base(file, &base).map(|u| u.href());
    let source = format!(
        "import init from {script:?}; await init({{ module_or_path: {module:?} }});",
        script = url(SCRIPT)?,
        module = url(MODULE)?,
    );
    let parts = js_sys::Array::of1(&JsValue::from_str(&source));
    let options = BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options)?;
    let blob_url = Url::create_object_url_with_blob(&blob)?;
    let options = WorkerOptions::new();
    options.set_type(WorkerType::Module);
    // Not revoked: the worker may fetch it after this returns; it is one small blob per worker.
    Worker::new_with_options(&blob_url, &options)
}

fn document() -> Result<web_sys::Document, JsValue> {
    web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| JsValue::from_str("no document"))
}
