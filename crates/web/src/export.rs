//! Files out of the page: downloads (scenario JSON, series CSV, chart SVG and PNG) and the
//! clipboard. Failures come back as messages for the status line, never panics.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Blob, BlobPropertyBag, Element, HtmlAnchorElement, HtmlCanvasElement, HtmlImageElement, Url,
};

fn js_error(e: JsValue) -> String {
    e.as_string()
        .or_else(|| js_sys::JSON::stringify(&e).ok().and_then(|s| s.as_string()))
        .unwrap_or_else(|| "unknown error".into())
}

/// A name safe for a file: the title's first words, lowercase, joined by dashes
/// (`fallback` when it has none).
pub fn file_stem(title: &str, fallback: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_ascii_lowercase)
        .collect();
    if words.is_empty() {
        fallback.to_owned()
    } else {
        words.join("-")
    }
}

/// Offers `content` as a file download.
pub fn download(filename: &str, mime: &str, content: &str) -> Result<(), String> {
    let parts = js_sys::Array::of1(&JsValue::from_str(content));
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).map_err(js_error)?;
    download_blob(filename, &blob)
}

/// Saves `href` (an object or data URL) as `filename`, through a clicked `<a download>`.
fn click_download(href: &str, filename: &str) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let a: HtmlAnchorElement = document
        .create_element("a")
        .map_err(js_error)?
        .unchecked_into();
    a.set_href(href);
    a.set_download(filename);
    a.click();
    Ok(())
}

fn download_blob(filename: &str, blob: &Blob) -> Result<(), String> {
    let url = Url::create_object_url_with_blob(blob).map_err(js_error)?;
    click_download(&url, filename)?;
    // Revoked later: the download may start after this returns.
    let revoke = Closure::once_into_js(move || {
        let _ = Url::revoke_object_url(&url);
    });
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 10_000);
    }
    Ok(())
}

/// A chart as a standalone SVG document (its styles carry light-theme fallbacks).
pub fn svg_text(svg: &Element) -> Result<String, String> {
    let serializer = web_sys::XmlSerializer::new().map_err(js_error)?;
    let text = serializer.serialize_to_string(svg).map_err(js_error)?;
    Ok(format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{text}"
    ))
}

/// Draws the chart's SVG onto a canvas at twice its size and downloads it as PNG.
pub fn save_png(svg: &Element, filename: &str) -> Result<(), String> {
    let text = svg_text(svg)?;
    let view_box = svg.get_attribute("viewBox").unwrap_or_default();
    let dims: Vec<f64> = view_box
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let (width, height) = match dims.as_slice() {
        [_, _, w, h] => (*w, *h),
        _ => (760.0, 400.0),
    };
    let url = format!(
        "data:image/svg+xml;charset=utf-8,{}",
        crate::url::encode(&text)
    );
    let image = HtmlImageElement::new().map_err(js_error)?;
    let filename = filename.to_owned();
    let loaded = image.clone();
    let on_load = Closure::once_into_js(move || {
        let result = (|| -> Result<(), String> {
            let document = web_sys::window()
                .and_then(|w| w.document())
                .ok_or("no document")?;
            let canvas: HtmlCanvasElement = document
                .create_element("canvas")
                .map_err(js_error)?
                .unchecked_into();
            let scale = 2.0;
            canvas.set_width((width * scale) as u32);
            canvas.set_height((height * scale) as u32);
            let ctx: web_sys::CanvasRenderingContext2d = canvas
                .get_context("2d")
                .map_err(js_error)?
                .ok_or("no 2d context")?
                .unchecked_into();
            ctx.scale(scale, scale).map_err(js_error)?;
            ctx.draw_image_with_html_image_element(&loaded, 0.0, 0.0)
                .map_err(js_error)?;
            let data_url = canvas.to_data_url().map_err(js_error)?;
            click_download(&data_url, &filename)
        })();
        if let Err(e) = result {
            web_sys::console::warn_1(&JsValue::from_str(&format!("PNG export failed: {e}")));
        }
    });
    image.set_onload(Some(on_load.unchecked_ref()));
    image.set_src(&url);
    Ok(())
}

/// Copies `text`; the promise's outcome is reported through `done`.
pub fn copy(text: &str, done: impl FnOnce(Result<(), String>) + 'static) {
    let Some(window) = web_sys::window() else {
        done(Err("no window".into()));
        return;
    };
    // `navigator.clipboard` exists only in secure contexts (https, localhost).
    let navigator = window.navigator();
    if !window.is_secure_context()
        || !js_sys::Reflect::has(&navigator, &"clipboard".into()).unwrap_or(false)
    {
        done(Err("the clipboard is only available over https".into()));
        return;
    }
    let promise = navigator.clipboard().write_text(text);
    wasm_bindgen_futures::spawn_local(async move {
        let result = wasm_bindgen_futures::JsFuture::from(promise).await;
        done(result.map(|_| ()).map_err(js_error));
    });
}

#[cfg(test)]
mod tests {
    use super::file_stem;

    #[test]
    fn file_names_are_the_first_words() {
        assert_eq!(
            file_stem("outage replay: 2023-08-05, pools", "x"),
            "outage-replay-2023-08-05-pools"
        );
        assert_eq!(file_stem("!!!", "poolsim"), "poolsim");
    }
}
