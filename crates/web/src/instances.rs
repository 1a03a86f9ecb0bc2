//! Connections per instance over time, one strip per instance: the view that makes a starved
//! instance obvious at a glance (in the outage replay, four instances hold no connection at
//! all while eight hold the database's every slot). Each strip is coloured by the share of
//! its `max_size` the instance holds, red where it holds none while up, grey while down; the
//! text beside it (HTML, so it reads at any width) gives the count at the playhead or at the
//! end of the run.

use poolsim_engine::Series;
use yew::prelude::*;

use crate::chart::{clock, wall};

/// One run of buckets that look the same: where it starts, how many, and its colour class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stretch {
    pub from: usize,
    pub len: usize,
    pub shade: Shade,
}

/// What a bucket of one instance looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shade {
    /// The instance is down (no pool in force).
    Down,
    /// Up, holding no connection: starved.
    Starved,
    /// Up, holding this many tenths (1..=10) of its `max_size`.
    Held(u8),
}

impl Shade {
    fn of(total: f32, max: u32) -> Shade {
        if max == 0 {
            Shade::Down
        } else if total < 0.5 {
            Shade::Starved
        } else {
            let tenths = (f64::from(total) / f64::from(max) * 10.0).ceil();
            Shade::Held(tenths.clamp(1.0, 10.0) as u8)
        }
    }

    fn color(self) -> String {
        match self {
            Shade::Down => "#c3c9d1".to_owned(),
            Shade::Starved => "#d64545".to_owned(),
            // Light to dark blue as the pool fills.
            Shade::Held(t) => format!("hsl(217 72% {}%)", 88 - 5 * u32::from(t)),
        }
    }
}

/// Instance `i`'s buckets `..until` as stretches of one shade each.
pub fn stretches(series: &Series, i: usize, until: usize) -> Vec<Stretch> {
    let Some(one) = series.instances.get(i) else {
        return Vec::new();
    };
    let n = until.min(one.total.len()).min(one.max.len());
    let mut out: Vec<Stretch> = Vec::new();
    for b in 0..n {
        let shade = Shade::of(one.total[b], one.max[b]);
        match out.last_mut() {
            Some(last) if last.shade == shade => last.len += 1,
            _ => out.push(Stretch {
                from: b,
                len: 1,
                shade,
            }),
        }
    }
    out
}

#[derive(Properties, PartialEq, Debug)]
pub struct InstanceMapProps {
    pub series: std::rc::Rc<Series>,
    /// Playback's time, s: the strips stop there and the counts are read there.
    pub at: Option<f64>,
    /// A replay's clock (Unix seconds), for the time the counts are read at.
    pub start: Option<i64>,
}

#[component]
pub fn InstanceMap(props: &InstanceMapProps) -> Html {
    let s = &props.series;
    let buckets = s.len();
    if s.instances.len() < 2 || buckets == 0 {
        return Html::default();
    }
    let bucket_s = s.bucket_s.max(1e-9);
    let until = props.at.map_or(buckets, |t| {
        ((t / bucket_s).floor() as usize + 1).min(buckets)
    });
    let read_at = until - 1;
    let t = props.at.unwrap_or(read_at as f64 * bucket_s);
    let when = props
        .start
        .map_or_else(|| clock(t), |start| wall(start, t, true));
    let rows = (0..s.instances.len()).map(|i| {
        let one = &s.instances[i];
        let held = one.total.get(read_at).copied().unwrap_or(0.0).round();
        let max = one.max.get(read_at).copied().unwrap_or(0);
        let state = match Shade::of(held, max) {
            Shade::Down => "down".to_owned(),
            Shade::Starved => format!("0 of {max}: starved"),
            Shade::Held(_) => format!("{held} of {max}"),
        };
        let rects = stretches(s, i, until).into_iter().map(|st| {
            html! {
                <rect x={st.from.to_string()} width={st.len.to_string()} y="0" height="1"
                      fill={st.shade.color()} />
            }
        });
        html! {
            <div class="instance-row" data-instance={(i + 1).to_string()} data-held={held.to_string()}
                 data-max={max.to_string()}>
                <span class="name">{format!("instance {}", i + 1)}</span>
                <svg class="strip" viewBox={format!("0 0 {buckets} 1")} preserveAspectRatio="none"
                     role="img" aria-label={format!("instance {}: {state} at {when}", i + 1)}>
                    { for rects }
                </svg>
                <span class="held">{state}</span>
            </div>
        }
    });
    html! {
        <section class="instance-map" data-testid="instance-map" aria-label="Connections per instance">
            <p class="instance-map-title">{format!("Connections held per instance (counts at {when})")}</p>
            { for rows }
            <p class="instance-map-key">
                <span class="swatch" style="background: #d64545" />{" none while up "}
                <span class="swatch" style="background: hsl(217 72% 83%)" />{" a little "}
                <span class="swatch" style="background: hsl(217 72% 38%)" />{" max_size "}
                <span class="swatch" style="background: #c3c9d1" />{" down"}
            </p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_shows_four_starved_instances_beside_eight_full_ones() {
        let config =
            poolsim_scenario::parse(include_str!("../../../tests/scenarios/outage-replay.json"))
                .unwrap()
                .validate()
                .unwrap();
        let report = poolsim_engine::run(&config).unwrap();
        let s = &report.series;
        // At the detection (14:00, 7m10s), before the fix.
        let b = (430.0 / s.bucket_s) as usize;
        let at: Vec<Shade> = (0..12)
            .map(|i| Shade::of(s.instances[i].total[b], s.instances[i].max[b]))
            .collect();
        assert!(at[8..].iter().all(|&x| x == Shade::Starved), "{at:?}");
        assert!(
            at[..8].iter().all(|&x| matches!(x, Shade::Held(6..))),
            "{at:?}"
        );
        // The eight hold the database's usable connections between them.
        let held: f32 = (0..8).map(|i| s.instances[i].total[b]).sum();
        assert!((470.0..=497.0).contains(&held), "{held}");
        // Strips merge equal buckets: a handful of stretches, not one a bucket.
        let n: usize = (0..12).map(|i| stretches(s, i, s.len()).len()).sum();
        assert!(n < s.len(), "{n} stretches for {} buckets", s.len());
        assert_eq!(
            stretches(s, 0, s.len())
                .iter()
                .map(|st| st.len)
                .sum::<usize>(),
            s.len()
        );
    }
}
