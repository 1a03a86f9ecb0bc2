//! One hand-written SVG chart component, used by every figure: stacked panels sharing an x
//! axis (time, or milliseconds on a log scale), lines with gaps, reference lines (a limit such
//! as usable connections), shaded fault windows, alert markers, a legend, and a hover or
//! keyboard cursor that reads every line's value.
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

pub const WIDTH: f64 = 760.0;
const PANEL_HEIGHT: f64 = 170.0;
/// Rows of mark labels at the top of a panel (11 px each).
const LABEL_ROWS: usize = 6;
/// Width of a label character at the chart's 11 px font, roughly.
const CHAR_PX: f64 = 6.0;

/// A row for each label `(x px, characters)` (NaN x: not placed, row 0), so that labels in a
/// row do not overlap: left to right, each takes the first row free at its x, or when none
/// is, the row that frees up first.
fn label_rows(labels: &[(f64, usize)], rows: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..labels.len())
        .filter(|&i| labels[i].0.is_finite())
        .collect();
    order.sort_by(|&a, &b| labels[a].0.total_cmp(&labels[b].0));
    let mut ends = vec![f64::NEG_INFINITY; rows.max(1)];
    let mut out = vec![0; labels.len()];
    for i in order {
        let (x, chars) = labels[i];
        let row = (0..ends.len()).find(|&r| ends[r] <= x).unwrap_or_else(|| {
            (0..ends.len())
                .min_by(|&a, &b| ends[a].total_cmp(&ends[b]))
                .unwrap_or(0)
        });
        ends[row] = x + 3.0 + CHAR_PX * chars as f64;
        out[i] = row;
    }
    out
}
const LEFT: f64 = 58.0;
const RIGHT: f64 = 14.0;
const TOP: f64 = 22.0;
const AXIS: f64 = 24.0;

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
}

const PALETTE_TEXT: &str = "fill: var(--chart-fg, #1f2933)";
const PALETTE_GRID: &str = "stroke: var(--chart-grid, #d5dbe1)";

#[component]
pub fn Chart(props: &ChartProps) -> Html {
    let cursor = use_state(|| None::<f64>);
    let height = TOP + props.panels.len() as f64 * (PANEL_HEIGHT + AXIS) + 6.0;
    let scale = XScale::new(props.x);

    let onmousemove = {
        let cursor = cursor.clone();
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
            let px = (f64::from(e.client_x()) - rect.left()) * WIDTH / rect.width();
            cursor.set(scale.invert(px));
        })
    };
    let onmouseleave = {
        let cursor = cursor.clone();
        Callback::from(move |_| cursor.set(None))
    };
    let onkeydown = {
        let cursor = cursor.clone();
        Callback::from(move |e: KeyboardEvent| {
            let step = (LEFT - RIGHT + WIDTH) / 60.0;
            let at = cursor.and_then(|x| scale.px(x)).unwrap_or(LEFT);
            let next = match e.key().as_str() {
                "ArrowRight" => at + step,
                "ArrowLeft" => at - step,
                "Home" => LEFT,
                "End" => WIDTH - RIGHT,
                "Escape" => {
                    cursor.set(None);
                    return;
                }
                _ => return,
            };
            e.prevent_default();
            cursor.set(scale.invert(next.clamp(LEFT, WIDTH - RIGHT)));
        })
    };

    let panels = props.panels.iter().enumerate().map(|(i, panel)| {
        let top = TOP + i as f64 * (PANEL_HEIGHT + AXIS);
        draw_panel(panel, top, &scale, &props.spans, *cursor)
    });
    let summary = describe(&props.title, &props.panels);
    html! {
        <svg ref={props.svg_ref.clone()} xmlns="http://www.w3.org/2000/svg"
             viewBox={format!("0 0 {WIDTH} {height:.0}")} role="img" tabindex="0"
             aria-label={summary} class="chart" style="font: 11px system-ui, sans-serif"
             {onmousemove} {onmouseleave} {onkeydown}>
            <title>{props.title.clone()}</title>
            <rect x="0" y="0" width={WIDTH.to_string()} height={format!("{height:.0}")}
                  style="fill: var(--chart-bg, #ffffff)" />
            { for panels }
        </svg>
    }
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

fn draw_panel(panel: &Panel, top: f64, x: &XScale, spans: &[Span], cursor: Option<f64>) -> Html {
    let y = YScale::new(panel, top);
    let bottom = top + PANEL_HEIGHT;
    let grid = y.ticks.iter().map(|&t| {
        let py = y.px(t);
        html! {
            <g>
                <line x1={LEFT.to_string()} x2={(WIDTH - RIGHT).to_string()}
                      y1={format!("{py:.1}")} y2={format!("{py:.1}")} style={PALETTE_GRID} />
                <text x={(LEFT - 6.0).to_string()} y={format!("{:.1}", py + 3.5)}
                      text-anchor="end" style={PALETTE_TEXT}>{number(t)}</text>
            </g>
        }
    });
    let x_ticks = x.ticks().into_iter().map(|(t, label)| {
        let Some(px) = x.px(t) else {
            return Html::default();
        };
        html! {
            <g>
                <line x1={format!("{px:.1}")} x2={format!("{px:.1}")}
                      y1={bottom.to_string()} y2={(bottom + 4.0).to_string()} style={PALETTE_GRID} />
                <text x={format!("{px:.1}")} y={(bottom + 15.0).to_string()} text-anchor="middle"
                      style={PALETTE_TEXT}>{label}</text>
            </g>
        }
    });
    // Labels of nearby marks go to different rows so that they do not overprint: moments and
    // alerts from the top down, fault windows from the bottom up.
    let placed = |top_label: bool| -> Vec<(f64, usize)> {
        spans
            .iter()
            .map(|s| {
                let on_top = matches!(s.kind, Mark::Moment | Mark::Alert);
                match x.px(s.from) {
                    Some(px) if on_top == top_label && s.kind != Mark::Playhead => {
                        (px, s.label.chars().count() + 2)
                    }
                    _ => (f64::NAN, 0),
                }
            })
            .collect()
    };
    let (top_rows, bottom_rows) = (
        label_rows(&placed(true), LABEL_ROWS),
        label_rows(&placed(false), 3),
    );
    let shaded = spans.iter().enumerate().filter_map(|(i, s)| {
        let from = x.px(s.from)?;
        let row = top_rows[i] as f64 * 11.0;
        let bottom_row = bottom_rows[i] as f64 * 11.0;
        let to = x.px(s.to.max(s.from)).unwrap_or(from);
        Some(match s.kind {
            Mark::Moment => html! {
                <g data-mark="moment">
                    <line x1={format!("{from:.1}")} x2={format!("{from:.1}")}
                          y1={top.to_string()} y2={bottom.to_string()}
                          style="stroke: #2f6fdf; stroke-width: 1.2" />
                    <text x={format!("{:.1}", from + 3.0)} y={(top + 10.0 + row).to_string()}
                          style="fill: #2f6fdf">{format!("● {}", s.label)}</text>
                </g>
            },
            Mark::Playhead => html! {
                <g data-mark="playhead">
                    <line x1={format!("{from:.1}")} x2={format!("{from:.1}")}
                          y1={top.to_string()} y2={bottom.to_string()}
                          style="stroke: var(--chart-fg, #1f2933); stroke-width: 2" />
                    <text x={format!("{:.1}", from - 3.0)} y={(bottom - 16.0).to_string()} text-anchor="end"
                          style={PALETTE_TEXT}>{format!("▶ {}", s.label)}</text>
                </g>
            },
            Mark::Alert => html! {
                <g data-mark="alert">
                    <line x1={format!("{from:.1}")} x2={format!("{from:.1}")}
                          y1={top.to_string()} y2={bottom.to_string()}
                          style="stroke: #d64545; stroke-width: 1.5" stroke-dasharray="4 3" />
                    <text x={format!("{:.1}", from + 3.0)} y={(top + 10.0 + row).to_string()}
                          style="fill: #d64545">{format!("⚑ {}", s.label)}</text>
                </g>
            },
            Mark::Fault => html! {
                <g data-mark="fault">
                    <rect x={format!("{from:.1}")} y={top.to_string()}
                          width={format!("{:.1}", (to - from).max(1.5))}
                          height={PANEL_HEIGHT.to_string()}
                          style="fill: #8b5cf6; fill-opacity: 0.13" />
                    <text x={format!("{:.1}", from + 3.0)} y={(bottom - 4.0 - bottom_row).to_string()}
                          style="fill: #7c3aed">{s.label.clone()}</text>
                </g>
            },
        })
    });
    let refs = panel.refs.iter().map(|r| {
        let py = y.px(r.y);
        html! {
            <g data-ref={r.label.clone()}>
                <line x1={LEFT.to_string()} x2={(WIDTH - RIGHT).to_string()}
                      y1={format!("{py:.1}")} y2={format!("{py:.1}")}
                      style="stroke: #d64545; stroke-width: 1.2" stroke-dasharray="6 4" />
                <text x={(WIDTH - RIGHT - 4.0).to_string()} y={format!("{:.1}", py - 4.0)}
                      text-anchor="end" style="fill: #d64545">{r.label.clone()}</text>
            </g>
        }
    });
    let lines = panel.lines.iter().map(|line| {
        let d = path(line, x, &y);
        if line.limit {
            let end = line
                .xs
                .iter()
                .zip(line.ys.iter())
                .rev()
                .find(|(_, v)| v.is_finite())
                .and_then(|(&xv, &yv)| Some((x.px(xv)?, y.px(yv), yv)));
            let label = end.map(|(px, py, v)| {
                html! {
                    <text x={format!("{:.1}", px.max(LEFT + 140.0))} y={format!("{:.1}", py - 4.0)}
                          text-anchor="end" style="fill: #d64545" data-limit-value={number(v)}>
                        {format!("{} {}", line.label, number(v))}
                    </text>
                }
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
    });
    let mut legend_x = LEFT;
    let legend = panel
        .lines
        .iter()
        .filter(|l| !l.baseline && !l.limit)
        .map(|line| {
            let at = legend_x;
            legend_x += 18.0 + 6.2 * line.label.chars().count() as f64;
            html! {
                <g>
                    <rect x={at.to_string()} y={(top - 15.0).to_string()} width="10" height="10"
                          style={format!("fill: {}", line.color)} />
                    <text x={(at + 13.0).to_string()} y={(top - 6.0).to_string()}
                          style={PALETTE_TEXT}>{line.label.clone()}</text>
                </g>
            }
        });
    let has_baseline = panel.lines.iter().any(|l| l.baseline);
    html! {
        <g>
            { for grid }
            <text x="12" y={format!("{:.1}", top + PANEL_HEIGHT / 2.0)} text-anchor="middle"
                  transform={format!("rotate(-90 12 {:.1})", top + PANEL_HEIGHT / 2.0)}
                  style={PALETTE_TEXT}>{panel.unit}</text>
            { for shaded }
            { for refs }
            { for lines }
            { for legend }
            if has_baseline {
                <text x={(WIDTH - RIGHT).to_string()} y={(top - 6.0).to_string()} text-anchor="end"
                      style={PALETTE_TEXT}>{"dashed: pinned baseline"}</text>
            }
            <line x1={LEFT.to_string()} x2={(WIDTH - RIGHT).to_string()}
                  y1={bottom.to_string()} y2={bottom.to_string()}
                  style="stroke: var(--chart-fg, #1f2933); stroke-opacity: 0.6" />
            { for x_ticks }
            { cursor.map(|c| draw_cursor(panel, c, x, &y)).unwrap_or_default() }
        </g>
    }
}

/// The hover line and a box with each line's value at `at`.
fn draw_cursor(panel: &Panel, at: f64, x: &XScale, y: &YScale) -> Html {
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
    let width = 14.0
        + 6.3
            * rows
                .iter()
                .map(|(t, _)| t.chars().count())
                .max()
                .unwrap_or(0) as f64;
    let height = 6.0 + 14.0 * rows.len() as f64;
    let box_x = if px + 10.0 + width > WIDTH {
        px - 10.0 - width
    } else {
        px + 10.0
    };
    let box_y = y.top + 4.0;
    html! {
        <g class="cursor" data-cursor="true" pointer-events="none">
            <line x1={format!("{px:.1}")} x2={format!("{px:.1}")} y1={y.top.to_string()}
                  y2={(y.top + PANEL_HEIGHT).to_string()} style="stroke: var(--chart-fg, #1f2933); stroke-opacity: 0.5" />
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
        // On a log panel a zero (no wait at all) sits on the bottom line rather than vanishing.
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

#[derive(Clone, Copy, Debug, PartialEq)]
struct XScale {
    axis: XAxis,
}

impl XScale {
    fn new(axis: XAxis) -> XScale {
        XScale { axis }
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
            .then_some(LEFT + f * (WIDTH - LEFT - RIGHT))
    }

    fn invert(&self, px: f64) -> Option<f64> {
        let (lo, hi, log) = self.span();
        let f = (px - LEFT) / (WIDTH - LEFT - RIGHT);
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

    fn ticks(&self) -> Vec<(f64, String)> {
        match self.axis {
            XAxis::Time { max, start } => {
                const STEPS: [f64; 16] = [
                    1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
                    3600.0, 7200.0, 21600.0, 43200.0,
                ];
                let step = STEPS
                    .iter()
                    .copied()
                    .find(|s| max / s <= 8.0)
                    .unwrap_or(86400.0);
                (0..)
                    .map(|i| f64::from(i) * step)
                    .take_while(|t| *t <= max + 1e-9)
                    .map(|t| (t, start.map_or_else(|| clock(t), |s| wall(s, t, false))))
                    .collect()
            }
            XAxis::Linear { min, max, .. } => {
                let step = nice_ceiling((max - min) / 8.0).max(1.0);
                let first = (min / step).ceil() * step;
                (0..)
                    .map(|i| first + f64::from(i) * step)
                    .take_while(|t| *t <= max + 1e-9)
                    .map(|t| (t, number(t)))
                    .collect()
            }
            XAxis::LogMs { .. } => {
                let (lo, hi, _) = self.span();
                (lo as i32..=hi as i32)
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

struct YScale {
    top: f64,
    max: f64,
    log: bool,
    /// log10 of the lowest decade, for log panels.
    lo: f64,
    ticks: Vec<f64>,
}

impl YScale {
    fn new(panel: &Panel, top: f64) -> YScale {
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
            let ticks = (lo as i32..=hi as i32).map(|e| 10f64.powi(e)).collect();
            YScale {
                top,
                max: hi,
                log: true,
                lo,
                ticks,
            }
        } else {
            let max = nice_ceiling(values.fold(0.0, f64::max));
            let step = max / 4.0;
            YScale {
                top,
                max,
                log: false,
                lo: 0.0,
                ticks: (0..=4).map(|i| f64::from(i) * step).collect(),
            }
        }
    }

    fn px(&self, v: f64) -> f64 {
        let f = if self.log {
            (v.max(1e-9).log10() - self.lo) / (self.max - self.lo)
        } else {
            v / self.max
        };
        self.top + PANEL_HEIGHT * (1.0 - f.clamp(0.0, 1.02))
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

    #[test]
    fn labels_that_would_overlap_take_other_rows() {
        // Two labels 10 px apart overlap: the second goes down a row; one far right reuses
        // the first row; an unplaced one stays at 0.
        let rows = label_rows(&[(100.0, 10), (110.0, 10), (400.0, 5), (f64::NAN, 3)], 4);
        assert_eq!(rows, [0, 1, 0, 0]);
        // More overlapping labels than rows: the row that frees up first is reused.
        assert_eq!(label_rows(&[(0.0, 10), (1.0, 10), (2.0, 10)], 2), [0, 1, 0]);
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
        .ticks();
        assert_eq!(ticks.first().unwrap().1, "0s");
        assert_eq!(ticks.last().unwrap().1, "10m");
        assert!(ticks.len() <= 9);
        // A replay's clock: 2023-08-05 13:52:50 UTC plus 7m10s is 14:00.
        let replay = XScale::new(XAxis::Time {
            max: 2100.0,
            start: Some(1_691_243_570),
        });
        assert_eq!(replay.label(430.0), "14:00:00 UTC (+7m10s)");
        assert_eq!(replay.ticks()[0].1, "13:52");
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
            &YScale::new(&panel, 0.0),
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
