//! One hand-written SVG chart component, used by every figure: stacked panels sharing an x
//! axis (time, or milliseconds on a log scale), lines with gaps, reference lines (a limit such
//! as usable connections), shaded fault windows, alert markers, a legend, and a hover or
//! keyboard cursor that reads every line's value.
//!
//! A chart is laid out for the width it is shown at (measured, and again on every resize), so
//! its text is 11 px on a phone as on a desktop. Every label inside a panel is placed by
//! its measured size clear of the labels placed before it, and each panel's legend wraps in a
//! band of its own, so no text is drawn over other text or cut off at an edge.
//!
//! Written here rather than taken from a plotting crate because the page needs all of these
//! as DOM it can test, style for light and dark, export as a standalone SVG, and redraw
//! several times a second while a run streams in; the drawing maths is small and lives only
//! in this file.

use std::fmt::Write;
use std::rc::Rc;

use web_sys::{Element, KeyboardEvent, MouseEvent};
use yew::prelude::*;

/// A number as people read it on a chart: `0.25`, `12.5`, `1,200`, `3.4M`.
pub use poolsim_explain::format::compact as number;

#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub label: String,
    /// `data-series` of the path, for tests and styling.
    pub key: &'static str,
    pub color: &'static str,
    pub xs: Rc<[f64]>,
    /// `NaN` for "no value here" (a gap in the line).
    pub ys: Rc<[f64]>,
    /// The pinned run, drawn dashed under the current one.
    pub baseline: bool,
    /// A limit that changes over time (the pools' `max_size` total, the database's usable
    /// connections): drawn red and dashed, labelled at its right end with the value there,
    /// read by the cursor like any line, and left out of the legend.
    pub limit: bool,
}

/// A horizontal limit, such as the database's usable connections.
#[derive(Clone, Debug, PartialEq)]
pub struct RefLine {
    pub label: String,
    pub y: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Panel {
    /// The y axis: what and in which unit (`"connections"`, `"ms"`).
    pub unit: &'static str,
    pub lines: Vec<Line>,
    pub refs: Vec<RefLine>,
    pub log: bool,
}

/// A time window to shade (a fault) or a moment to mark (an alert firing, a timeline
/// moment).
#[derive(Clone, Debug, PartialEq)]
pub struct Span {
    pub from: f64,
    pub to: f64,
    pub label: String,
    pub kind: Mark,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    /// A fault's window, shaded.
    Fault,
    /// An alert firing: a red flag.
    Alert,
    /// A moment of a replay's timeline (detection, fix...): a blue line with its label.
    Moment,
    /// Playback's current time: the charts end here.
    Playhead,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum XAxis {
    /// Seconds from the start, labelled `30s`, `2m`, `1h30m`; with `start` (a replay's UTC
    /// clock, Unix seconds), labelled with the wall-clock time.
    Time { max: f64, start: Option<i64> },
    /// Milliseconds on a log scale.
    LogMs { min: f64, max: f64 },
    /// A plain number (a pool size), labelled with `unit` in the cursor.
    Linear {
        min: f64,
        max: f64,
        unit: &'static str,
    },
}

#[derive(Properties, PartialEq, Debug)]
pub struct ChartProps {
    pub title: AttrValue,
    pub panels: Rc<Vec<Panel>>,
    pub x: XAxis,
    #[prop_or_default]
    pub spans: Rc<Vec<Span>>,
    #[prop_or_default]
    pub svg_ref: NodeRef,
    /// Fill the height of the box the chart is in (an embed's frame), not just its width.
    #[prop_or_default]
    pub fill: bool,
}

const PALETTE_TEXT: &str = "fill: var(--chart-fg, #1f2933)";
const PALETTE_GRID: &str = "stroke: var(--chart-grid, #d5dbe1)";

/// The width a chart is laid out for until its box has been measured.
const DEFAULT_WIDTH: f64 = 760.0;
/// Below this a chart scrolls sideways rather than squeezing its labels together.
const MIN_WIDTH: f64 = 280.0;
/// The chart's font, as CSS writes it; text is laid out for it at 1:1 pixels.
pub const FONT: &str = "11px system-ui, sans-serif";
/// How far a line of 11 px text reaches above its baseline and below it (the font's box).
const ASCENT: f64 = 10.5;
const DESCENT: f64 = 3.0;
/// Distance between stacked rows of mark labels.
const ROW: f64 = 14.0;
/// A row of the legend.
const LEGEND_ROW: f64 = 16.0;
/// Below the plot: the x labels' band.
const X_BAND: f64 = 22.0;
const RIGHT: f64 = 14.0;
/// At the bottom of a log panel: where zero is drawn, below the lowest decade.
const ZERO_BAND: f64 = 14.0;

#[component]
pub fn Chart(props: &ChartProps) -> Html {
    let cursor = use_state(|| None::<f64>);
    let wrap = use_node_ref();
    let size = use_state_eq(|| None::<(f64, f64)>);
    {
        let wrap = wrap.clone();
        let size = size.clone();
        use_effect_with(props.fill, move |&fill| observe_size(wrap, size, fill));
    }
    let (width, room) = match *size {
        Some((w, h)) => (w, props.fill.then_some(h)),
        None => (DEFAULT_WIDTH, None),
    };
    let layout = Rc::new(Layout::new(&props.panels, props.x, width, room));

    let onmousemove = {
        let cursor = cursor.clone();
        let layout = layout.clone();
        Callback::from(move |e: MouseEvent| {
            let Some(target) = e.current_target() else {
                return;
            };
            let Ok(el) = wasm_bindgen::JsCast::dyn_into::<Element>(target) else {
                return;
            };
            let rect = el.get_bounding_client_rect();
            if rect.width() <= 0.0 {
                return;
            }
            let px = (f64::from(e.client_x()) - rect.left()) * layout.width / rect.width();
            cursor.set(layout.x.invert(px));
        })
    };
    let onmouseleave = {
        let cursor = cursor.clone();
        Callback::from(move |_| cursor.set(None))
    };
    let onkeydown = {
        let cursor = cursor.clone();
        let x = layout.x;
        Callback::from(move |e: KeyboardEvent| {
            let step = (x.x1 - x.x0) / 60.0;
            let at = cursor.and_then(|c| x.px(c)).unwrap_or(x.x0);
            let next = match e.key().as_str() {
                "ArrowRight" => at + step,
                "ArrowLeft" => at - step,
                "Home" => x.x0,
                "End" => x.x1,
                "Escape" => {
                    cursor.set(None);
                    return;
                }
                _ => return,
            };
            e.prevent_default();
            cursor.set(x.invert(next.clamp(x.x0, x.x1)));
        })
    };

    let panels = props
        .panels
        .iter()
        .zip(&layout.panels)
        .enumerate()
        .map(|(i, (panel, place))| {
            // Marks are labelled once, on the first panel; the panels below repeat the lines.
            let spans: &[Span] = &props.spans;
            draw_panel(panel, place, &layout, (spans, i == 0), *cursor)
        });
    let summary = describe(&props.title, &props.panels);
    let (w, h) = (layout.width, layout.height);
    html! {
        <div class="chart-box" ref={wrap}>
            <svg ref={props.svg_ref.clone()} xmlns="http://www.w3.org/2000/svg"
                 width={format!("{w:.0}")} height={format!("{h:.0}")}
                 viewBox={format!("0 0 {w:.0} {h:.0}")} role="img" tabindex="0"
                 aria-label={summary} class="chart" style={format!("font: {FONT}")}
                 {onmousemove} {onmouseleave} {onkeydown}>
                <title>{props.title.clone()}</title>
                <rect x="0" y="0" width={format!("{w:.0}")} height={format!("{h:.0}")}
                      style="fill: var(--chart-bg, #ffffff)" />
                { for panels }
            </svg>
        </div>
    }
}

/// Keeps `size` at the chart box's size (width, and height when the chart fills its box) as
/// the page is resized; returns the effect's clean-up.
fn observe_size(
    wrap: NodeRef,
    size: UseStateHandle<Option<(f64, f64)>>,
    fill: bool,
) -> impl FnOnce() {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;
    let observer = wrap.cast::<Element>().and_then(|el| {
        let read = {
            let el = el.clone();
            move || {
                let w = f64::from(el.client_width());
                let h = if fill {
                    f64::from(el.client_height())
                } else {
                    0.0
                };
                if w > 0.0 {
                    size.set(Some((w.floor().max(MIN_WIDTH), h.floor())));
                }
            }
        };
        read();
        let callback = Closure::<dyn FnMut()>::new(read);
        let observer = web_sys::ResizeObserver::new(callback.as_ref().unchecked_ref()).ok()?;
        observer.observe(&el);
        Some((observer, callback))
    });
    move || {
        if let Some((observer, _callback)) = observer {
            observer.disconnect();
        }
    }
}

/// The width in pixels of `text` in the chart's font: measured by the browser where there is
/// one, so that labels are placed by their real size.
pub fn text_px(text: &str) -> f64 {
    measure::width(text)
}

#[cfg(target_arch = "wasm32")]
mod measure {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use wasm_bindgen::JsCast;
    use web_sys::CanvasRenderingContext2d;

    thread_local! {
        static CONTEXT: Option<CanvasRenderingContext2d> = context();
        static SEEN: RefCell<BTreeMap<String, f64>> = const { RefCell::new(BTreeMap::new()) };
    }

    fn context() -> Option<CanvasRenderingContext2d> {
        let canvas = web_sys::window()?
            .document()?
            .create_element("canvas")
            .ok()?;
        let ctx = canvas
            .dyn_into::<web_sys::HtmlCanvasElement>()
            .ok()?
            .get_context("2d")
            .ok()??
            .dyn_into::<CanvasRenderingContext2d>()
            .ok()?;
        ctx.set_font(super::FONT);
        Some(ctx)
    }

    pub fn width(text: &str) -> f64 {
        if let Some(w) = SEEN.with(|seen| seen.borrow().get(text).copied()) {
            return w;
        }
        let measured = CONTEXT.with(|ctx| {
            ctx.as_ref()
                .and_then(|c| c.measure_text(text).ok())
                .map(|m| m.width())
        });
        let w = measured.unwrap_or_else(|| super::estimate(text)).ceil() + 1.0;
        SEEN.with(|seen| {
            let mut seen = seen.borrow_mut();
            if seen.len() > 4096 {
                seen.clear();
            }
            seen.insert(text.to_owned(), w);
        });
        w
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod measure {
    pub fn width(text: &str) -> f64 {
        super::estimate(text)
    }
}

/// A generous guess at a text's width in the chart's font, where nothing can measure it.
fn estimate(text: &str) -> f64 {
    text.chars()
        .map(|c| if c.is_ascii() { 6.6 } else { 11.0 })
        .sum::<f64>()
        + 1.0
}

/// How a text is anchored at its x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    Start,
    End,
}

impl Anchor {
    fn attr(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::End => "end",
        }
    }
}

/// A box on the chart, in its pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rect {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Rect {
    /// The box of a text `width` wide with its baseline at `y`.
    fn text(x: f64, y: f64, anchor: Anchor, width: f64) -> Rect {
        let x0 = match anchor {
            Anchor::Start => x,
            Anchor::End => x - width,
        };
        Rect {
            x0,
            y0: y - ASCENT,
            x1: x0 + width,
            y1: y + DESCENT,
        }
    }

    fn overlaps(&self, other: &Rect) -> bool {
        self.x0 < other.x1 && other.x0 < self.x1 && self.y0 < other.y1 && other.y0 < self.y1
    }

    fn within(&self, outer: &Rect) -> bool {
        self.x0 >= outer.x0 && self.x1 <= outer.x1 && self.y0 >= outer.y0 && self.y1 <= outer.y1
    }
}

/// A text's spot: x, baseline y and anchor.
type Spot = (f64, f64, Anchor);

/// Labels placed one by one, each at the first of its spots that lies inside `bounds` and
/// clear of every label placed before it; a label with no such spot is not drawn as text
/// (its mark keeps it as a tooltip), because text over text reads as neither.
struct Placer {
    bounds: Rect,
    taken: Vec<Rect>,
}

impl Placer {
    fn new(bounds: Rect) -> Placer {
        Placer {
            bounds,
            taken: Vec::new(),
        }
    }

    fn place(&mut self, spots: impl IntoIterator<Item = Spot>, width: f64) -> Option<Spot> {
        let (spot, rect) = spots
            .into_iter()
            .map(|(x, y, anchor)| ((x, y, anchor), Rect::text(x, y, anchor, width)))
            .find(|(_, r)| r.within(&self.bounds) && !self.taken.iter().any(|t| t.overlaps(r)))?;
        self.taken.push(rect);
        Some(spot)
    }
}

/// One entry of a panel's legend.
#[derive(Clone, Debug, PartialEq)]
struct Key {
    x: f64,
    y: f64,
    label: String,
    color: &'static str,
    /// The pinned baseline's entry: a dashed swatch.
    dashed: bool,
}

/// Where one panel goes.
#[derive(Clone, Debug, PartialEq)]
struct PanelPlace {
    top: f64,
    y: YScale,
    keys: Vec<Key>,
}

/// Where everything goes for a chart `width` pixels wide: the left margin fits the widest y
/// label, each panel's legend wraps into as many rows as it needs above its panel, the x
/// labels have a band of their own below it, and as many x labels as fit side by side.
#[derive(Clone, Debug, PartialEq)]
struct Layout {
    width: f64,
    height: f64,
    panel_height: f64,
    x: XScale,
    /// The x axis' labels: value, text, its width.
    x_ticks: Vec<(f64, String, f64)>,
    panels: Vec<PanelPlace>,
}

impl Layout {
    /// `room`: the height to fill, if the chart fills its box.
    fn new(panels: &[Panel], x: XAxis, width: f64, room: Option<f64>) -> Layout {
        let width = width.max(MIN_WIDTH);
        let widest_y = panels
            .iter()
            .flat_map(|p| YScale::ticks_of(p).into_iter())
            .map(|t| text_px(&number(t)))
            .fold(0.0, f64::max);
        // The rotated unit label takes the first 20 px.
        let left = (20.0 + widest_y + 6.0).max(40.0);
        let scale = XScale::new(x).between(left, width - RIGHT);
        let x_ticks = fitted_ticks(&scale);
        let keys: Vec<Vec<Key>> = panels
            .iter()
            .map(|p| legend(p, left, width - RIGHT))
            .collect();
        let bands: f64 = keys.iter().map(|k| legend_height(k) + 6.0 + X_BAND).sum();
        let default_height = if width >= 560.0 { 170.0 } else { 150.0 };
        let panel_height = room.map_or(default_height, |room| {
            ((room - bands - 8.0) / panels.len().max(1) as f64).clamp(70.0, 600.0)
        });
        let mut y = 4.0;
        let mut places = Vec::with_capacity(panels.len());
        for (panel, mut keys) in panels.iter().zip(keys) {
            let band = legend_height(&keys);
            for key in &mut keys {
                key.y += y;
            }
            let top = y + band + 6.0;
            places.push(PanelPlace {
                top,
                y: YScale::new(panel, top, panel_height),
                keys,
            });
            y = top + panel_height + X_BAND;
        }
        Layout {
            width,
            height: (y + 4.0).ceil(),
            panel_height,
            x: scale,
            x_ticks,
            panels: places,
        }
    }
}

/// A panel's legend, wrapped into rows between `x0` and `x1`; `y` is the baseline within the
/// legend's band.
fn legend(panel: &Panel, x0: f64, x1: f64) -> Vec<Key> {
    let mut entries: Vec<(String, &'static str, bool)> = panel
        .lines
        .iter()
        .filter(|l| !l.baseline && !l.limit)
        .map(|l| (l.label.clone(), l.color, false))
        .collect();
    if panel.lines.iter().any(|l| l.baseline) {
        entries.push(("pinned baseline".to_owned(), "#7b8794", true));
    }
    let (mut x, mut row) = (x0, 0.0);
    entries
        .into_iter()
        .map(|(label, color, dashed)| {
            let swatch = if dashed { 18.0 } else { 13.0 };
            let w = swatch + text_px(&label);
            if x > x0 && x + w > x1 {
                x = x0;
                row += 1.0;
            }
            let key = Key {
                x,
                y: 12.0 + row * LEGEND_ROW,
                label,
                color,
                dashed,
            };
            x += w + 14.0;
            key
        })
        .collect()
}

fn legend_height(keys: &[Key]) -> f64 {
    keys.iter().map(|k| k.y + DESCENT + 1.0).fold(0.0, f64::max)
}

/// As many of the x axis' labels as fit side by side without touching.
fn fitted_ticks(x: &XScale) -> Vec<(f64, String, f64)> {
    let measured = |n: usize| -> Vec<(f64, String, f64)> {
        x.ticks(n)
            .into_iter()
            .map(|(v, label)| {
                let w = text_px(&label);
                (v, label, w)
            })
            .collect()
    };
    let fits = |ticks: &Vec<(f64, String, f64)>| {
        ticks
            .windows(2)
            .all(|pair| match (x.px(pair[0].0), x.px(pair[1].0)) {
                (Some(a), Some(b)) => b - a >= (pair[0].2 + pair[1].2) / 2.0 + 10.0,
                _ => true,
            })
    };
    (2..=10)
        .rev()
        .map(measured)
        .find(fits)
        .unwrap_or_else(|| measured(2).into_iter().take(1).collect())
}

/// The chart in words, for screen readers: each line's last and highest value.
fn describe(title: &str, panels: &[Panel]) -> String {
    let mut out = format!("{title}.");
    for panel in panels {
        for line in panel.lines.iter().filter(|l| !l.baseline) {
            let finite = || line.ys.iter().copied().filter(|y| y.is_finite());
            if let (Some(last), Some(max)) = (finite().next_back(), finite().reduce(f64::max)) {
                let _ = write!(
                    out,
                    " {}: last {}, highest {} {}.",
                    line.label,
                    number(last),
                    number(max),
                    panel.unit
                );
            }
        }
    }
    out
}

/// `<text>` at a placed spot.
fn text_at((x, y, anchor): Spot, style: &str, body: String) -> Html {
    html! {
        <text x={format!("{x:.1}")} y={format!("{y:.1}")} text-anchor={anchor.attr()}
              style={style.to_owned()}>{body}</text>
    }
}

/// Spots for a horizontal line's label at height `py`: ending at `right`, above the line then
/// below it, else starting at `left`.
fn beside_line(right: f64, left: f64, py: f64) -> [Spot; 4] {
    let (above, below) = (py - 4.0, py + ASCENT + 3.0);
    [
        (right, above, Anchor::End),
        (right, below, Anchor::End),
        (left, above, Anchor::Start),
        (left, below, Anchor::Start),
    ]
}

/// Spots for a mark's label at `px`: on row after row from `first` going by `step`, right of
/// the mark, else left of it.
fn mark_spots(px: f64, first: f64, step: f64, rows: usize) -> impl Iterator<Item = Spot> {
    (0..rows).flat_map(move |r| {
        let y = first + step * r as f64;
        [(px + 3.0, y, Anchor::Start), (px - 3.0, y, Anchor::End)]
    })
}

fn draw_panel(
    panel: &Panel,
    place: &PanelPlace,
    layout: &Layout,
    (spans, labelled): (&[Span], bool),
    cursor: Option<f64>,
) -> Html {
    let x = &layout.x;
    let y = &place.y;
    let top = place.top;
    let bottom = top + layout.panel_height;
    let mut placer = Placer::new(Rect {
        x0: x.x0,
        y0: top,
        x1: x.x1,
        y1: bottom,
    });
    let grid = y.ticks.iter().map(|&t| {
        let py = y.px(t);
        html! {
            <g>
                <line x1={format!("{:.1}", x.x0)} x2={format!("{:.1}", x.x1)}
                      y1={format!("{py:.1}")} y2={format!("{py:.1}")} style={PALETTE_GRID} />
                <text x={format!("{:.1}", x.x0 - 6.0)} y={format!("{:.1}", py + 3.5)}
                      text-anchor="end" style={PALETTE_TEXT}>{number(t)}</text>
            </g>
        }
    });
    let x_ticks = layout.x_ticks.iter().map(|(t, label, w)| {
        let Some(px) = x.px(*t) else {
            return Html::default();
        };
        let centre = px.clamp(w / 2.0 + 1.0, layout.width - w / 2.0 - 1.0);
        html! {
            <g>
                <line x1={format!("{px:.1}")} x2={format!("{px:.1}")}
                      y1={bottom.to_string()} y2={(bottom + 4.0).to_string()} style={PALETTE_GRID} />
                <text x={format!("{centre:.1}")} y={format!("{:.1}", bottom + 16.0)} text-anchor="middle"
                      style={PALETTE_TEXT}>{label.clone()}</text>
            </g>
        }
    });
    // Labels inside the plot, most important first: the limits' values, then the playhead,
    // the moments and alerts from the top down, fault windows from the bottom up.
    let refs: Vec<Html> = panel
        .refs
        .iter()
        .map(|r| {
            let py = y.px(r.y);
            let w = text_px(&r.label);
            let label = placer.place(beside_line(x.x1 - 4.0, x.x0 + 4.0, py), w);
            html! {
                <g data-ref={r.label.clone()}>
                    <line x1={format!("{:.1}", x.x0)} x2={format!("{:.1}", x.x1)}
                          y1={format!("{py:.1}")} y2={format!("{py:.1}")}
                          style="stroke: #d64545; stroke-width: 1.2" stroke-dasharray="6 4" />
                    if let Some(spot) = label { { text_at(spot, "fill: #d64545", r.label.clone()) } }
                    else { <title>{r.label.clone()}</title> }
                </g>
            }
        })
        .collect();
    let lines: Vec<Html> = panel
        .lines
        .iter()
        .map(|line| draw_line(line, x, y, &mut placer))
        .collect();
    let marks: Vec<Html> = [Mark::Playhead, Mark::Moment, Mark::Alert, Mark::Fault]
        .into_iter()
        .flat_map(|kind| spans.iter().filter(move |s| s.kind == kind))
        .filter_map(|s| draw_mark(s, x, (top, bottom), labelled.then_some(&mut placer)))
        .collect();
    let legend = place.keys.iter().map(|k| {
        let swatch = if k.dashed {
            html! { <line x1={format!("{:.1}", k.x)} x2={format!("{:.1}", k.x + 14.0)}
                          y1={format!("{:.1}", k.y - 4.0)} y2={format!("{:.1}", k.y - 4.0)}
                          style={format!("stroke: {}", k.color)} stroke-width="1.5" stroke-dasharray="4 3" /> }
        } else {
            html! { <rect x={format!("{:.1}", k.x)} y={format!("{:.1}", k.y - 9.0)} width="10" height="10"
                          style={format!("fill: {}", k.color)} /> }
        };
        let text_x = k.x + if k.dashed { 18.0 } else { 13.0 };
        html! {
            <g data-legend={k.label.clone()}>
                { swatch }
                <text x={format!("{text_x:.1}")} y={format!("{:.1}", k.y)} style={PALETTE_TEXT}>{k.label.clone()}</text>
            </g>
        }
    });
    let mid = top + layout.panel_height / 2.0;
    html! {
        <g>
            { for grid }
            <text x="12" y={format!("{mid:.1}")} text-anchor="middle"
                  transform={format!("rotate(-90 12 {mid:.1})")}
                  style={PALETTE_TEXT}>{panel.unit}</text>
            { for marks }
            { for refs }
            { for lines }
            { for legend }
            <line x1={format!("{:.1}", x.x0)} x2={format!("{:.1}", x.x1)}
                  y1={bottom.to_string()} y2={bottom.to_string()}
                  style="stroke: var(--chart-fg, #1f2933); stroke-opacity: 0.6" />
            { for x_ticks }
            { cursor.map(|c| draw_cursor(panel, c, layout, y)).unwrap_or_default() }
        </g>
    }
}

fn draw_line(line: &Line, x: &XScale, y: &YScale, placer: &mut Placer) -> Html {
    let d = path(line, x, y);
    if line.limit {
        let end = line
            .xs
            .iter()
            .zip(line.ys.iter())
            .rev()
            .find(|(_, v)| v.is_finite())
            .and_then(|(&xv, &yv)| Some((x.px(xv)?, y.px(yv), yv)));
        let label = end.and_then(|(px, py, v)| {
            let text = format!("{} {}", line.label, number(v));
            let w = text_px(&text);
            let right = px.min(x.x1 - 2.0);
            let (sx, sy, anchor) = placer.place(beside_line(right, x.x0 + 4.0, py), w)?;
            Some(html! {
                <text x={format!("{sx:.1}")} y={format!("{sy:.1}")} text-anchor={anchor.attr()}
                      style="fill: #d64545" data-limit-value={number(v)}>{text}</text>
            })
        });
        html! {
            <g data-limit={line.key}>
                <path data-series={line.key} d={d} fill="none"
                      style="stroke: #d64545; stroke-width: 1.2" stroke-dasharray="6 4" />
                { label.unwrap_or_default() }
            </g>
        }
    } else if line.baseline {
        html! { <path data-series={line.key} data-baseline="true" d={d} fill="none"
        style={format!("stroke: {}; stroke-opacity: 0.55", line.color)}
        stroke-width="1.5" stroke-dasharray="5 4" /> }
    } else {
        html! { <path data-series={line.key} d={d} fill="none"
        style={format!("stroke: {}", line.color)} stroke-width="1.6"
        stroke-linejoin="round" /> }
    }
}

/// A fault window, alert, moment or the playhead, with its label where one fits (with no
/// `placer`, the label is only the mark's tooltip).
fn draw_mark(
    s: &Span,
    x: &XScale,
    (top, bottom): (f64, f64),
    mut placer: Option<&mut Placer>,
) -> Option<Html> {
    let from = x.px(s.from)?;
    let to = x.px(s.to.max(s.from)).unwrap_or(from);
    let fx = format!("{from:.1}");
    let rows = ((bottom - top - ASCENT) / ROW).floor().clamp(1.0, 8.0) as usize;
    let mut label = |text: String, spots: Vec<Spot>, style: &str| {
        let spot = placer
            .as_deref_mut()
            .and_then(|p| p.place(spots, text_px(&text)));
        match spot {
            Some(spot) => text_at(spot, style, text),
            None => html! { <title>{text}</title> },
        }
    };
    Some(match s.kind {
        Mark::Moment => html! {
            <g data-mark="moment">
                <line x1={fx.clone()} x2={fx} y1={top.to_string()} y2={bottom.to_string()}
                      style="stroke: #2f6fdf; stroke-width: 1.2" />
                { label(format!("● {}", s.label), mark_spots(from, top + ASCENT + 2.0, ROW, rows).collect(),
                        "fill: #2f6fdf") }
            </g>
        },
        Mark::Playhead => html! {
            <g data-mark="playhead">
                <line x1={fx.clone()} x2={fx} y1={top.to_string()} y2={bottom.to_string()}
                      style="stroke: var(--chart-fg, #1f2933); stroke-width: 2" />
                { label(format!("▶ {}", s.label), mark_spots(from, bottom - DESCENT - 14.0, -ROW, rows).collect(),
                        PALETTE_TEXT) }
            </g>
        },
        Mark::Alert => html! {
            <g data-mark="alert">
                <line x1={fx.clone()} x2={fx} y1={top.to_string()} y2={bottom.to_string()}
                      style="stroke: #d64545; stroke-width: 1.5" stroke-dasharray="4 3" />
                { label(format!("⚑ {}", s.label), mark_spots(from, top + ASCENT + 2.0, ROW, rows).collect(),
                        "fill: #d64545") }
            </g>
        },
        Mark::Fault => {
            let spots = (0..rows.min(4))
                .flat_map(|r| {
                    let y = bottom - DESCENT - 2.0 - ROW * r as f64;
                    [
                        (from + 3.0, y, Anchor::Start),
                        (to - 3.0, y, Anchor::End),
                        (from - 3.0, y, Anchor::End),
                    ]
                })
                .collect();
            html! {
                <g data-mark="fault">
                    <rect x={fx} y={top.to_string()} width={format!("{:.1}", (to - from).max(1.5))}
                          height={(bottom - top).to_string()} style="fill: #8b5cf6; fill-opacity: 0.13" />
                    { label(s.label.clone(), spots, "fill: #7c3aed") }
                </g>
            }
        }
    })
}

/// The hover line and a box with each line's value at `at`.
fn draw_cursor(panel: &Panel, at: f64, layout: &Layout, y: &YScale) -> Html {
    let x = &layout.x;
    let Some(px) = x.px(at) else {
        return Html::default();
    };
    let rows: Vec<(String, &'static str)> = std::iter::once((x.label(at), "transparent"))
        .chain(panel.lines.iter().filter_map(|line| {
            let i = nearest(&line.xs, at)?;
            let v = *line.ys.get(i)?;
            let shown = if v.is_finite() {
                number(v)
            } else {
                "–".into()
            };
            let tag = if line.baseline { " (pinned)" } else { "" };
            Some((
                format!("{}{tag}: {shown} {}", line.label, panel.unit),
                line.color,
            ))
        }))
        .collect();
    let width = 20.0 + rows.iter().map(|(t, _)| text_px(t)).fold(0.0, f64::max);
    let height = 6.0 + 14.0 * rows.len() as f64;
    let box_x = if px + 10.0 + width > layout.width {
        (px - 10.0 - width).max(0.0)
    } else {
        px + 10.0
    };
    let box_y = y.top + 4.0;
    html! {
        <g class="cursor" data-cursor="true" pointer-events="none">
            <line x1={format!("{px:.1}")} x2={format!("{px:.1}")} y1={y.top.to_string()}
                  y2={(y.top + y.height).to_string()} style="stroke: var(--chart-fg, #1f2933); stroke-opacity: 0.5" />
            <rect x={format!("{box_x:.1}")} y={box_y.to_string()} width={format!("{width:.1}")}
                  height={height.to_string()} rx="3"
                  style="fill: var(--chart-bg, #ffffff); fill-opacity: 0.94; stroke: var(--chart-grid, #d5dbe1)" />
            { for rows.iter().enumerate().map(|(i, (text, color))| html! {
                <g>
                    <rect x={format!("{:.1}", box_x + 5.0)} y={format!("{:.1}", box_y + 6.0 + 14.0 * i as f64)}
                          width="7" height="7" style={format!("fill: {color}")} />
                    <text x={format!("{:.1}", box_x + 15.0)} y={format!("{:.1}", box_y + 13.0 + 14.0 * i as f64)}
                          style={PALETTE_TEXT}>{text.clone()}</text>
                </g>
            }) }
        </g>
    }
}

/// The SVG path of a line: `M` at its start and after each gap, `L` otherwise.
fn path(line: &Line, x: &XScale, y: &YScale) -> String {
    let mut d = String::with_capacity(line.xs.len() * 14);
    let mut pen_down = false;
    for (&xv, &yv) in line.xs.iter().zip(line.ys.iter()) {
        // On a log panel a zero (no wait at all) sits on the "0" line below the decades.
        match (x.px(xv), yv.is_finite()) {
            (Some(px), true) => {
                let py = y.px(yv);
                let _ = write!(d, "{}{px:.1},{py:.1}", if pen_down { 'L' } else { 'M' });
                pen_down = true;
            }
            _ => pen_down = false,
        }
    }
    d
}

/// Index of the last x at or before `at` (the bucket holding it).
fn nearest(xs: &[f64], at: f64) -> Option<usize> {
    let i = xs.partition_point(|&x| x <= at);
    if i == 0 {
        (!xs.is_empty()).then_some(0)
    } else {
        Some(i - 1)
    }
}

/// The x axis, mapped onto the pixels from `x0` to `x1`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct XScale {
    axis: XAxis,
    x0: f64,
    x1: f64,
}

impl XScale {
    fn new(axis: XAxis) -> XScale {
        XScale {
            axis,
            x0: 58.0,
            x1: DEFAULT_WIDTH - RIGHT,
        }
    }

    fn between(self, x0: f64, x1: f64) -> XScale {
        XScale {
            x0,
            x1: x1.max(x0 + 1.0),
            ..self
        }
    }

    fn span(&self) -> (f64, f64, bool) {
        match self.axis {
            XAxis::Time { max, .. } => (0.0, max.max(1e-9), false),
            XAxis::Linear { min, max, .. } => (min, max.max(min + 1e-9), false),
            XAxis::LogMs { min, max } => {
                let lo = min.max(1e-3).log10().floor();
                let hi = max.max(min.max(1e-3) * 10.0).log10().ceil();
                (lo, hi.max(lo + 1.0), true)
            }
        }
    }

    fn px(&self, v: f64) -> Option<f64> {
        let (lo, hi, log) = self.span();
        let v = if log {
            if v <= 0.0 {
                return None;
            }
            v.log10()
        } else {
            v
        };
        let f = (v - lo) / (hi - lo);
        (-0.001..=1.001)
            .contains(&f)
            .then_some(self.x0 + f * (self.x1 - self.x0))
    }

    fn invert(&self, px: f64) -> Option<f64> {
        let (lo, hi, log) = self.span();
        let f = (px - self.x0) / (self.x1 - self.x0);
        if !(0.0..=1.0).contains(&f) {
            return None;
        }
        let v = lo + f * (hi - lo);
        Some(if log { 10f64.powf(v) } else { v })
    }

    fn label(&self, v: f64) -> String {
        match self.axis {
            XAxis::Time { start, .. } => when(start, v, true),
            XAxis::LogMs { .. } => format!("{} ms", number(v)),
            XAxis::Linear { unit, .. } => format!("{unit} {}", number(v.round())),
        }
    }

    /// At most `most` labels (and at least two where the axis has them).
    fn ticks(&self, most: usize) -> Vec<(f64, String)> {
        let most = most.max(2) as f64;
        match self.axis {
            XAxis::Time { max, start } => {
                const STEPS: [f64; 16] = [
                    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
                    3600.0, 7200.0, 21600.0, 43200.0,
                ];
                let step = STEPS
                    .iter()
                    .copied()
                    .find(|s| max / s <= most - 1.0)
                    .unwrap_or(86400.0);
                (0..)
                    .map(|i| f64::from(i) * step)
                    .take_while(|t| *t <= max + 1e-9)
                    .map(|t| (t, start.map_or_else(|| clock(t), |s| wall(s, t, false))))
                    .collect()
            }
            XAxis::Linear { min, max, .. } => {
                let step = nice_ceiling((max - min) / (most - 1.0)).max(1.0);
                let first = (min / step).ceil() * step;
                (0..)
                    .map(|i| first + f64::from(i) * step)
                    .take_while(|t| *t <= max + 1e-9)
                    .map(|t| (t, number(t)))
                    .collect()
            }
            XAxis::LogMs { .. } => {
                let (lo, hi, _) = self.span();
                let every = ((hi - lo + 1.0) / most).ceil().max(1.0) as usize;
                (lo as i32..=hi as i32)
                    .step_by(every)
                    .map(|e| {
                        let v = 10f64.powi(e);
                        let label = if v >= 1000.0 {
                            format!("{} s", number(v / 1000.0))
                        } else {
                            format!("{} ms", number(v))
                        };
                        (v, label)
                    })
                    .collect()
            }
        }
    }
}

/// A panel's y axis: linear from zero, or decades with zero on a line of its own below them
/// (so that "no wait at all" reads 0, not the lowest decade).
#[derive(Clone, Debug, PartialEq)]
struct YScale {
    top: f64,
    height: f64,
    max: f64,
    log: bool,
    /// log10 of the lowest decade, for log panels.
    lo: f64,
    ticks: Vec<f64>,
}

impl YScale {
    /// The decades (log) or the top of the axis (linear) a panel's values need.
    fn range(panel: &Panel) -> (f64, f64) {
        let values = panel
            .lines
            .iter()
            .flat_map(|l| l.ys.iter().copied())
            .chain(panel.refs.iter().map(|r| r.y))
            .filter(|v| v.is_finite());
        if panel.log {
            let positive: Vec<f64> = values.filter(|v| *v > 0.0).collect();
            let hi = positive
                .iter()
                .copied()
                .fold(1.0, f64::max)
                .log10()
                .ceil()
                .max(1.0);
            let lo = positive
                .iter()
                .copied()
                .fold(f64::INFINITY, f64::min)
                .max(1e-3)
                .log10()
                .floor()
                .min(hi - 1.0);
            let lo = if lo.is_finite() { lo } else { hi - 2.0 };
            (lo, hi)
        } else {
            (0.0, nice_ceiling(values.fold(0.0, f64::max)))
        }
    }

    fn ticks_of(panel: &Panel) -> Vec<f64> {
        let (lo, hi) = YScale::range(panel);
        if panel.log {
            std::iter::once(0.0)
                .chain((lo as i32..=hi as i32).map(|e| 10f64.powi(e)))
                .collect()
        } else {
            (0..=4).map(|i| f64::from(i) * hi / 4.0).collect()
        }
    }

    fn new(panel: &Panel, top: f64, height: f64) -> YScale {
        let (lo, max) = YScale::range(panel);
        let mut ticks = YScale::ticks_of(panel);
        if panel.log {
            // Every decade while they are 16 px apart, else every other one (and so on),
            // zero kept: a short panel's labels must not run into each other.
            let decades = (max - lo).max(1.0);
            let every = ((16.0 * decades) / (height - ZERO_BAND).max(1.0))
                .ceil()
                .max(1.0) as usize;
            ticks = std::iter::once(0.0)
                .chain(ticks.into_iter().skip(1).step_by(every))
                .collect();
        }
        YScale {
            top,
            height,
            max,
            log: panel.log,
            lo,
            ticks,
        }
    }

    fn px(&self, v: f64) -> f64 {
        let bottom = self.top + self.height;
        if self.log {
            if v <= 0.0 {
                return bottom;
            }
            let span = self.height - ZERO_BAND;
            let f = (v.log10() - self.lo) / (self.max - self.lo);
            bottom - ZERO_BAND - span * f.clamp(0.0, 1.02)
        } else {
            bottom - self.height * (v / self.max).clamp(0.0, 1.02)
        }
    }
}

/// The smallest of 1, 2, 2.5, 5 × 10^k at or above `v` (and at least 1).
pub fn nice_ceiling(v: f64) -> f64 {
    // Also catches NaN.
    if v.partial_cmp(&1.0) != Some(std::cmp::Ordering::Greater) {
        return 1.0;
    }
    let decade = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * decade)
        .find(|c| *c >= v * 0.9999)
        .unwrap_or(10.0 * decade)
}

/// A time in a run: `14:00:00 UTC (+7m10s)` on a replay's clock (`start`, Unix seconds;
/// `14:00 UTC (+7m10s)` without `seconds`), `7m10s` without one.
pub fn when(start: Option<i64>, offset_s: f64, seconds: bool) -> String {
    match start {
        Some(s) => format!("{} UTC (+{})", wall(s, offset_s, seconds), clock(offset_s)),
        None => clock(offset_s),
    }
}

/// The UTC time of day `offset_s` after `start` (Unix seconds): `14:05` or `14:05:30`.
pub fn wall(start: i64, offset_s: f64, seconds: bool) -> String {
    let t = (start + offset_s.round() as i64).rem_euclid(86_400);
    let (h, m, s) = (t / 3600, (t % 3600) / 60, t % 60);
    if seconds {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}")
    }
}

/// Seconds as a clock offset: `45s`, `2m`, `2m30s`, `1h`, `1h05m`.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(label: &str, ys: &[f64]) -> Line {
        Line {
            label: label.into(),
            key: "k",
            color: "#000",
            xs: (0..ys.len()).map(|i| i as f64).collect::<Vec<_>>().into(),
            ys: ys.to_vec().into(),
            baseline: false,
            limit: false,
        }
    }

    #[test]
    fn a_label_takes_the_first_free_spot_inside_the_plot_or_none() {
        let mut p = Placer::new(Rect {
            x0: 0.0,
            y0: 0.0,
            x1: 200.0,
            y1: 100.0,
        });
        let spots = |x: f64| mark_spots(x, 20.0, ROW, 3).collect::<Vec<_>>();
        assert_eq!(
            p.place(spots(10.0), 50.0),
            Some((13.0, 20.0, Anchor::Start))
        );
        // The same place is taken: the next row.
        assert_eq!(
            p.place(spots(12.0), 50.0),
            Some((15.0, 34.0, Anchor::Start))
        );
        // Near the right edge: to the left of the mark.
        assert_eq!(
            p.place(spots(190.0), 50.0),
            Some((187.0, 20.0, Anchor::End))
        );
        // Wider than the plot: nowhere.
        assert_eq!(p.place(spots(100.0), 250.0), None);
    }

    #[test]
    fn panels_legends_and_x_labels_never_share_a_band() {
        let panel = |n: usize| Panel {
            unit: "connections",
            lines: (0..n)
                .map(|i| line(&format!("hikaricp_connections_{i}"), &[1.0, 80.0]))
                .collect(),
            refs: vec![],
            log: false,
        };
        let x = XAxis::Time {
            max: 1800.0,
            start: None,
        };
        for width in [1400.0, 800.0, 390.0, 100.0] {
            let layout = Layout::new(&[panel(6), panel(2)], x, width, None);
            assert!(layout.width >= MIN_WIDTH);
            let (first, second) = (&layout.panels[0], &layout.panels[1]);
            let first_bottom = first.top + layout.panel_height;
            let x_labels_end = first_bottom + 16.0 + DESCENT;
            let second_legend_top = second
                .keys
                .iter()
                .map(|k| k.y - ASCENT)
                .fold(f64::MAX, f64::min);
            assert!(
                x_labels_end <= second_legend_top,
                "{width}: {x_labels_end} > {second_legend_top}"
            );
            let last_key = first.keys.iter().map(|k| k.y + DESCENT).fold(0.0, f64::max);
            assert!(last_key <= first.top, "{width}: legend runs into the panel");
            for k in &first.keys {
                let w = 13.0 + text_px(&k.label);
                assert!(
                    k.x + w <= layout.width - RIGHT + 0.01,
                    "{width}: {} runs off",
                    k.label
                );
            }
            let rows = first
                .keys
                .iter()
                .map(|k| k.y.to_bits())
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            assert!(
                rows >= if width < 500.0 { 3 } else { 1 },
                "{width}: {rows} rows"
            );
            // The x labels fit side by side.
            for pair in layout.x_ticks.windows(2) {
                let (a, b) = (
                    layout.x.px(pair[0].0).unwrap(),
                    layout.x.px(pair[1].0).unwrap(),
                );
                assert!(
                    b - a >= (pair[0].2 + pair[1].2) / 2.0,
                    "{width}: x labels touch"
                );
            }
        }
        // Filling a 400 px frame: the panels share what the bands leave.
        let filled = Layout::new(&[panel(2), panel(2)], x, 600.0, Some(400.0));
        assert!((filled.height - 400.0).abs() <= 12.0, "{}", filled.height);
    }

    #[test]
    fn zero_on_a_log_axis_is_its_own_line_below_the_decades() {
        let panel = Panel {
            unit: "ms",
            lines: vec![line("wait p99", &[0.0, 12.0, 30_000.0])],
            refs: vec![],
            log: true,
        };
        let y = YScale::new(&panel, 0.0, 170.0);
        assert_eq!(y.ticks[0], 0.0);
        assert_eq!(y.ticks[1], 10.0);
        assert_eq!(y.px(0.0), 170.0);
        assert!((y.px(10.0) - (170.0 - ZERO_BAND)).abs() < 1e-9);
        assert!(y.px(30_000.0) < y.px(10.0));
        // A short panel keeps its labels 16 px apart: fewer decades are labelled.
        let short = YScale::new(&panel, 0.0, 70.0);
        assert_eq!(short.ticks[0], 0.0);
        assert!(short.ticks.len() < y.ticks.len(), "{:?}", short.ticks);
        for pair in short.ticks[1..].windows(2) {
            assert!(
                short.px(pair[0]) - short.px(pair[1]) >= 16.0,
                "{:?}",
                short.ticks
            );
        }
    }

    #[test]
    fn axes_read_well() {
        assert_eq!(nice_ceiling(0.3), 1.0);
        assert_eq!(nice_ceiling(97.0), 100.0);
        assert_eq!(nice_ceiling(497.0), 500.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(2100.0), 2500.0);
        assert_eq!(clock(0.0), "0s");
        assert_eq!(clock(150.0), "2m30s");
        assert_eq!(clock(3600.0), "1h");
        assert_eq!(clock(3900.0), "1h05m");
        assert_eq!(number(12_345.0), "12,345");
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(12.5), "12.5");
        assert_eq!(number(3.0), "3");
        let ticks = XScale::new(XAxis::Time {
            max: 600.0,
            start: None,
        })
        .ticks(9);
        assert_eq!(ticks.first().unwrap().1, "0s");
        assert_eq!(ticks.last().unwrap().1, "10m");
        assert!(ticks.len() <= 9);
        // A replay's clock: 2023-08-05 13:52:50 UTC plus 7m10s is 14:00.
        let replay = XScale::new(XAxis::Time {
            max: 2100.0,
            start: Some(1_691_243_570),
        });
        assert_eq!(replay.label(430.0), "14:00:00 UTC (+7m10s)");
        assert_eq!(replay.ticks(8)[0].1, "13:52");
    }

    #[test]
    fn paths_break_at_gaps_and_the_cursor_finds_the_bucket() {
        let line = Line {
            label: "p99".into(),
            key: "p99",
            color: "#000",
            xs: vec![0.0, 1.0, 2.0, 3.0].into(),
            ys: vec![1.0, f64::NAN, 2.0, 3.0].into(),
            baseline: false,
            limit: false,
        };
        let panel = Panel {
            unit: "ms",
            lines: vec![line.clone()],
            refs: vec![],
            log: false,
        };
        let d = path(
            &line,
            &XScale::new(XAxis::Time {
                max: 4.0,
                start: None,
            }),
            &YScale::new(&panel, 0.0, 170.0),
        );
        assert_eq!(d.matches('M').count(), 2, "{d}");
        assert_eq!(d.matches('L').count(), 1, "{d}");
        assert_eq!(nearest(&line.xs, 2.5), Some(2));
        assert_eq!(nearest(&line.xs, -1.0), Some(0));
        assert_eq!(nearest(&[], 1.0), None);
        let x = XScale::new(XAxis::Time {
            max: 4.0,
            start: None,
        });
        let back = x.invert(x.px(3.0).unwrap()).unwrap();
        assert!((back - 3.0).abs() < 1e-9);
    }
}
