//! The two evaluation plots written next to a bundle, as self-contained SVG: the energy
//! histogram (known vs unknown, threshold marked) and the metrics-vs-threshold curve.
//! Plain SVG text rather than a plotting crate: two fixed chart shapes do not need a font
//! stack or a rendering backend, and the files stay a few kilobytes.

use std::fmt::Write;

use crate::evaluate::{Binary, KnownScore};

pub const HISTOGRAM_FILE: &str = "energy-histogram.svg";
pub const CURVE_FILE: &str = "threshold-curve.svg";

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 360.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 48.0;
const KNOWN_COLOR: &str = "#2563eb";
const UNKNOWN_COLOR: &str = "#ea580c";
const THRESHOLD_COLOR: &str = "#dc2626";
const ACCURACY_COLOR: &str = "#16a34a";

/// A chart area with data ranges mapped to pixels, and the SVG written so far.
struct Chart {
    svg: String,
    x: (f64, f64),
    y: (f64, f64),
}

impl Chart {
    fn new(title: &str, x: (f64, f64), y: (f64, f64), x_label: &str, y_label: &str) -> Self {
        let (x, y) = (widen(x), widen(y));
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" font-family="system-ui, sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="14" font-weight="600">{}</text>
<text x="{}" y="{}" text-anchor="middle">{}</text>
<text transform="translate(14 {}) rotate(-90)" text-anchor="middle">{}</text>
"#,
            WIDTH / 2.0,
            escape(title),
            LEFT + (WIDTH - LEFT - RIGHT) / 2.0,
            HEIGHT - 8.0,
            escape(x_label),
            TOP + (HEIGHT - TOP - BOTTOM) / 2.0,
            escape(y_label),
        );
        let mut chart = Self { svg, x, y };
        chart.axes();
        chart
    }

    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0) * (WIDTH - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        HEIGHT - BOTTOM - (y - self.y.0) / (self.y.1 - self.y.0) * (HEIGHT - TOP - BOTTOM)
    }

    fn axes(&mut self) {
        let (x0, x1, y0, y1) = (LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM);
        let _ = writeln!(
            self.svg,
            r##"<path d="M{x0} {y0}V{y1}H{x1}" fill="none" stroke="#444"/>"##
        );
        for t in ticks(self.x) {
            let p = self.px(t);
            let _ = writeln!(
                self.svg,
                r##"<path d="M{p:.1} {y1}v4" stroke="#444"/><text x="{p:.1}" y="{}" text-anchor="middle">{}</text>"##,
                y1 + 16.0,
                label(t)
            );
        }
        for t in ticks(self.y) {
            let p = self.py(t);
            let _ = writeln!(
                self.svg,
                r##"<path d="M{x0} {p:.1}h{}" stroke="#eee"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
                x1 - x0,
                x0 - 6.0,
                p + 4.0,
                label(t)
            );
        }
    }

    fn vertical_marker(&mut self, x: f64, text: &str) {
        let p = self.px(x);
        let _ = writeln!(
            self.svg,
            r#"<path d="M{p:.1} {TOP}V{}" stroke="{THRESHOLD_COLOR}" stroke-dasharray="5 3"/><text x="{:.1}" y="{}" fill="{THRESHOLD_COLOR}">{}</text>"#,
            HEIGHT - BOTTOM,
            p + 4.0,
            TOP + 12.0,
            escape(text)
        );
    }

    fn polyline(&mut self, points: &[(f64, f64)], color: &str) {
        let d: Vec<String> = points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", self.px(x), self.py(y)))
            .collect();
        let _ = writeln!(
            self.svg,
            r#"<polyline points="{}" fill="none" stroke="{color}" stroke-width="2"/>"#,
            d.join(" ")
        );
    }

    fn legend(&mut self, entries: &[(&str, &str)]) {
        let mut x = LEFT + 8.0;
        for (text, color) in entries {
            let _ = writeln!(
                self.svg,
                r#"<rect x="{x:.1}" y="{}" width="12" height="12" fill="{color}"/><text x="{:.1}" y="{}">{}</text>"#,
                TOP - 14.0,
                x + 16.0,
                TOP - 4.0,
                escape(text)
            );
            x += 24.0 + 7.0 * text.chars().count() as f64;
        }
    }

    fn finish(mut self) -> String {
        self.svg.push_str("</svg>\n");
        self.svg
    }
}

/// Known and unknown energies as two histograms (each as a share of its own group, so a
/// small unknown set stays visible), with the decision threshold marked.
pub fn energy_histogram(known: &[f32], unknown: &[f32], threshold: f32, title: &str) -> String {
    const BINS: usize = 40;
    let finite = |v: &[f32]| -> Vec<f64> {
        v.iter()
            .filter(|e| e.is_finite())
            .map(|&e| e as f64)
            .collect()
    };
    let (known, unknown) = (finite(known), finite(unknown));
    let threshold_f64 = threshold as f64;
    let all = known
        .iter()
        .chain(&unknown)
        .chain(std::iter::once(&threshold_f64));
    let lo = all.clone().copied().fold(f64::INFINITY, f64::min);
    let hi = all.copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = widen((lo, hi));
    let width = (hi - lo) / BINS as f64;
    let shares = |v: &[f64]| -> Vec<f64> {
        let mut counts = vec![0f64; BINS];
        for &e in v {
            counts[(((e - lo) / width) as usize).min(BINS - 1)] += 1.0;
        }
        let n = v.len().max(1) as f64;
        counts.iter().map(|c| c / n).collect()
    };
    let (k, u) = (shares(&known), shares(&unknown));
    let top = k.iter().chain(&u).copied().fold(0.0, f64::max).max(0.01);
    let mut chart = Chart::new(
        title,
        (lo, hi),
        (0.0, top * 1.1),
        "energy  (−logsumexp of the logits; higher means less familiar)",
        "share of group",
    );
    for (shares, color) in [(&k, KNOWN_COLOR), (&u, UNKNOWN_COLOR)] {
        for (i, &s) in shares.iter().enumerate().filter(|(_, &s)| s > 0.0) {
            let x0 = chart.px(lo + i as f64 * width);
            let x1 = chart.px(lo + (i + 1) as f64 * width);
            let (y0, y1) = (chart.py(s), chart.py(0.0));
            let _ = writeln!(
                chart.svg,
                r#"<rect x="{x0:.1}" y="{y0:.1}" width="{:.1}" height="{:.1}" fill="{color}" fill-opacity="0.55"/>"#,
                (x1 - x0 - 0.5).max(0.5),
                y1 - y0
            );
        }
    }
    chart.vertical_marker(threshold as f64, &format!("threshold {threshold:.2}"));
    let known_label = format!("known ({})", known.len());
    let unknown_label = format!("unknown ({})", unknown.len());
    chart.legend(&[(&known_label, KNOWN_COLOR), (&unknown_label, UNKNOWN_COLOR)]);
    chart.finish()
}

/// Unknown-detection precision and recall, and in-scope accuracy (known, accepted and
/// right), as the threshold sweeps the energies; the chosen threshold marked.
pub fn threshold_curve(
    known: &[KnownScore],
    unknown: &[f32],
    threshold: f32,
    title: &str,
) -> String {
    const STEPS: usize = 120;
    let known_e: Vec<f32> = known.iter().map(|k| k.energy).collect();
    let energies = known_e
        .iter()
        .chain(unknown)
        .chain(std::iter::once(&threshold))
        .filter(|e| e.is_finite());
    let lo = energies.clone().copied().fold(f32::INFINITY, f32::min) as f64;
    let hi = energies.copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let (lo, hi) = widen((lo, hi));
    let mut precision = Vec::new();
    let mut recall = Vec::new();
    let mut accuracy = Vec::new();
    for step in 0..=STEPS {
        let t = lo + (hi - lo) * step as f64 / STEPS as f64;
        let accepted_right = known
            .iter()
            .filter(|k| k.energy as f64 <= t && k.predicted == k.label)
            .count();
        accuracy.push((t, accepted_right as f64 / known.len().max(1) as f64));
        if !unknown.is_empty() {
            let b = Binary::at(&known_e, unknown, t as f32);
            // Precision is undefined once nothing is above the threshold.
            if known_e.iter().chain(unknown).any(|&e| e as f64 > t) {
                precision.push((t, b.precision));
            }
            recall.push((t, b.recall));
        }
    }
    let mut chart = Chart::new(
        title,
        (lo, hi),
        (0.0, 1.0),
        "energy threshold  (queries above it are unknown)",
        "rate",
    );
    let mut legend = vec![("in-scope accuracy", ACCURACY_COLOR)];
    chart.polyline(&accuracy, ACCURACY_COLOR);
    if !unknown.is_empty() {
        chart.polyline(&precision, KNOWN_COLOR);
        chart.polyline(&recall, UNKNOWN_COLOR);
        legend.extend([
            ("unknown precision", KNOWN_COLOR),
            ("unknown recall", UNKNOWN_COLOR),
        ]);
    }
    chart.vertical_marker(threshold as f64, &format!("threshold {threshold:.2}"));
    chart.legend(&legend);
    chart.finish()
}

/// Both plots for one evaluated split, as (file name, SVG bytes).
pub fn evaluation_plots(
    known: &[KnownScore],
    unknown: &[f32],
    threshold: f32,
    split: &str,
) -> Vec<(&'static str, Vec<u8>)> {
    let known_e: Vec<f32> = known.iter().map(|k| k.energy).collect();
    vec![
        (
            HISTOGRAM_FILE,
            energy_histogram(&known_e, unknown, threshold, &format!("Energy on {split}"))
                .into_bytes(),
        ),
        (
            CURVE_FILE,
            threshold_curve(
                known,
                unknown,
                threshold,
                &format!("Metrics vs threshold on {split}"),
            )
            .into_bytes(),
        ),
    ]
}

/// A non-empty range, also when every value is the same or there are none.
fn widen((lo, hi): (f64, f64)) -> (f64, f64) {
    if !lo.is_finite() || !hi.is_finite() {
        (0.0, 1.0)
    } else if hi - lo < 1e-6 {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    }
}

/// About six round tick values inside the range.
fn ticks((lo, hi): (f64, f64)) -> Vec<f64> {
    let raw = (hi - lo) / 6.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + step * 1e-9 && out.len() < 20 {
        out.push(t);
        t += step;
    }
    out
}

fn label(v: f64) -> String {
    let s = format!("{:.2}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.replace('-', "−")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(energies: &[f32]) -> Vec<KnownScore> {
        energies
            .iter()
            .map(|&energy| KnownScore {
                label: 0,
                predicted: 0,
                energy,
            })
            .collect()
    }

    #[test]
    fn histogram_marks_the_threshold_and_counts_both_groups() {
        let svg = energy_histogram(&[-9.0, -8.5, -8.0], &[-1.0, 0.5], -4.25, "test <set>");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("threshold −4.25") || svg.contains("threshold -4.25"));
        assert!(svg.contains("known (3)") && svg.contains("unknown (2)"));
        assert!(svg.contains("test &lt;set&gt;"), "titles are escaped");
        // Five values in distinct bins: five bars.
        assert_eq!(svg.matches("fill-opacity").count(), 5);
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn curve_reaches_full_recall_and_accuracy_at_the_ends() {
        let svg = threshold_curve(&known(&[-9.0, -8.0]), &[-1.0, 0.0], -4.0, "t");
        assert_eq!(svg.matches("<polyline").count(), 3);
        // Without unknown sentences only the accuracy line is drawn.
        let svg = threshold_curve(&known(&[-9.0, -8.0]), &[], -4.0, "t");
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn degenerate_inputs_still_give_a_valid_chart() {
        for svg in [
            energy_histogram(&[], &[], 0.0, "empty"),
            energy_histogram(&[1.0, 1.0], &[f32::NAN], 1.0, "flat"),
            threshold_curve(&[], &[], 0.0, "empty"),
        ] {
            assert!(svg.ends_with("</svg>\n"));
            assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        }
    }

    #[test]
    fn ticks_are_round() {
        let labels: Vec<String> = ticks((0.0, 1.0)).into_iter().map(label).collect();
        assert_eq!(labels, ["0", "0.2", "0.4", "0.6", "0.8", "1"]);
        let labels: Vec<String> = ticks((-13.7, 2.2)).into_iter().map(label).collect();
        assert_eq!(labels, ["−10", "−5", "0"]);
        assert_eq!(label(-0.0001), "0");
        assert_eq!(label(-12.5), "−12.5");
    }
}
