//! The annual report's charts: horizontal bars of levels with their 95 % intervals as
//! whiskers, drawn with plotters into an RGB buffer and encoded as PNG. Text is drawn with a
//! CJK font found on the server (ab_glyph renders it; plotters looks up no system fonts): the
//! first of `ZHISU_REPORT_FONT` and the Debian fonts `scripts/install-deps.sh` installs.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Where a CJK font is looked for, in order (after `ZHISU_REPORT_FONT`).
const FONT_FILES: [&str; 5] = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
];

/// The family name the font is registered under.
const FAMILY: &str = "zhisu-report";

/// Whether the report's charts have a CJK font (looked for once; a missing font is logged).
pub fn font_available() -> bool {
    font().is_ok()
}

/// Registers the font once; `Err` says why there is none (the charts are then left out and
/// the document says so).
fn font() -> Result<(), &'static str> {
    static FONT: OnceLock<Result<(), &'static str>> = OnceLock::new();
    *FONT.get_or_init(|| {
        let candidates = std::env::var("ZHISU_REPORT_FONT")
            .ok()
            .into_iter()
            .chain(FONT_FILES.iter().map(|s| s.to_string()));
        for path in candidates {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            // read once for the process's life: plotters keeps fonts as 'static
            let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
            if plotters::style::register_font(FAMILY, FontStyle::Normal, bytes).is_ok() {
                tracing::info!(font = %path, "the report's charts use this font");
                return Ok(());
            }
            tracing::warn!(font = %path, "not a font the charts can use");
        }
        tracing::warn!("no CJK font for the report's charts (install fonts-wqy-zenhei or set ZHISU_REPORT_FONT): charts left out");
        Err("no CJK font on the server (install fonts-wqy-zenhei, or set ZHISU_REPORT_FONT)")
    })
}

/// One bar: its label, level and interval (0–1), and whether its sample is small.
pub struct Bar {
    pub label: String,
    pub level: f64,
    pub low: f64,
    pub high: f64,
    pub small: bool,
}

/// A chart as a PNG and its size in pixels.
pub struct Png {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

const WIDTH: u32 = 1200;
const ROW: u32 = 60;
const TOP: u32 = 80;
const BOTTOM: u32 = 64;
const LABEL_WIDTH: u32 = 430;
const RIGHT: u32 = 150;

/// Shortens a label to fit the label column (13 CJK characters).
fn fit(label: &str) -> String {
    const MAX: usize = 13;
    if label.chars().count() <= MAX {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(MAX - 1).collect();
        s.push('…');
        s
    }
}

/// Draws `bars` under `title`; `Err` with a reason when it cannot (no font, nothing to draw).
pub fn bars(title: &str, bars: &[Bar]) -> Result<Png, String> {
    font().map_err(str::to_string)?;
    if bars.is_empty() {
        return Err("nothing to draw".into());
    }
    let height = TOP + BOTTOM + ROW * bars.len() as u32;
    let mut rgb = vec![255u8; (WIDTH * height * 3) as usize];
    draw(&mut rgb, height, title, bars).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, WIDTH, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer.write_image_data(&rgb).map_err(|e| e.to_string())?;
    }
    Ok(Png {
        bytes,
        width: WIDTH,
        height,
    })
}

fn draw(
    rgb: &mut [u8],
    height: u32,
    title: &str,
    bars: &[Bar],
) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let ink = RGBColor(26, 26, 26);
    let bar = RGBColor(47, 111, 176);
    let pale = RGBColor(155, 183, 212);
    let rule = RGBColor(200, 200, 200);
    let text = |size: f64, pos: Pos| (FAMILY, size).into_font().color(&ink).pos(pos);
    root.draw(&Text::new(
        title.to_string(),
        (16, 28),
        text(36.0, Pos::new(HPos::Left, VPos::Center)),
    ))?;
    let plot_left = LABEL_WIDTH as i32;
    let plot_right = (WIDTH - RIGHT) as i32;
    let x = |p: f64| plot_left + ((plot_right - plot_left) as f64 * p.clamp(0.0, 1.0)) as i32;
    let plot_top = TOP as i32 - 8;
    let plot_bottom = (TOP + ROW * bars.len() as u32) as i32 + 4;
    // grid and axis at 0, 20, … 100 %
    for tick in 0..=5 {
        let p = tick as f64 / 5.0;
        root.draw(&PathElement::new(
            vec![(x(p), plot_top), (x(p), plot_bottom)],
            rule.stroke_width(1),
        ))?;
        root.draw(&Text::new(
            format!("{}%", tick * 20),
            (x(p), plot_bottom + 26),
            text(28.0, Pos::new(HPos::Center, VPos::Center)),
        ))?;
    }
    for (i, b) in bars.iter().enumerate() {
        let top = (TOP + ROW * i as u32) as i32 + 8;
        let bottom = top + ROW as i32 - 16;
        let middle = (top + bottom) / 2;
        root.draw(&Text::new(
            fit(&b.label),
            (plot_left - 14, middle),
            text(30.0, Pos::new(HPos::Right, VPos::Center)),
        ))?;
        let colour = if b.small { pale } else { bar };
        root.draw(&Rectangle::new(
            [(x(0.0), top), (x(b.level).max(x(0.0) + 1), bottom)],
            colour.filled(),
        ))?;
        // the 95 % interval
        let whisker = ink.stroke_width(2);
        root.draw(&PathElement::new(
            vec![(x(b.low), middle), (x(b.high), middle)],
            whisker,
        ))?;
        for end in [b.low, b.high] {
            root.draw(&PathElement::new(
                vec![(x(end), middle - 8), (x(end), middle + 8)],
                whisker,
            ))?;
        }
        let mark = if b.small { " *" } else { "" };
        root.draw(&Text::new(
            format!("{:.1}%{mark}", b.level * 100.0),
            (x(b.high.max(b.level)) + 10, middle),
            text(30.0, Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    root.present()?;
    Ok(())
}
