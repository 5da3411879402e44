"""Draws the app's icon (1024 px) from shapes and the 职 glyph: a white shield under a yellow
hard hat on a deep green rounded square, 职 in the shield. Run once when the design
changes, then `npx tauri icon packaging/app/icon/zhisu-icon.png -o src-tauri/icons`.
Needs Pillow and the WenQuanYi Zen Hei font (fonts-wqy-zenhei)."""
import sys
from PIL import Image, ImageDraw, ImageFont

S = 1024
FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
GREEN = (11, 110, 79)  # deep green: health, safety signs (GB 2893)
LIGHT = (255, 255, 255)
AMBER = (245, 166, 35)  # the hard hat's yellow

def main(out):
    img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle([40, 40, S - 40, S - 40], radius=200, fill=GREEN)
    # a shield: protection at work
    cx = S // 2
    top, half = 250, 320
    # straight sides, then a rounded point: the lower half as a quadratic curve to the tip
    pts = [(cx - half, top), (cx + half, top), (cx + half, 560)]
    tip = (cx, 900)
    for i in range(1, 21):
        t = i / 20
        ctrl = (cx + half, 780)
        x = (1 - t) ** 2 * (cx + half) + 2 * (1 - t) * t * ctrl[0] + t * t * tip[0]
        y = (1 - t) ** 2 * 560 + 2 * (1 - t) * t * ctrl[1] + t * t * tip[1]
        pts.append((x, y))
    for (x, y) in reversed(pts[3:-1]):
        pts.append((2 * cx - x, y))
    pts.append((cx - half, 560))
    d.polygon(pts, fill=LIGHT)
    # a hard hat's brim over the shield
    d.pieslice([cx - 230, 100, cx + 230, 460], 180, 360, fill=AMBER)
    d.rounded_rectangle([cx - 340, 250, cx + 340, 300], radius=24, fill=AMBER)
    font = ImageFont.truetype(FONT, 330)
    box = d.textbbox((0, 0), "职", font=font)
    w, h = box[2] - box[0], box[3] - box[1]
    d.text((cx - w / 2 - box[0], 540 - h / 2 - box[1]), "职", font=font, fill=GREEN,
           stroke_width=8, stroke_fill=GREEN)
    img.save(out)

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "zhisu-icon.png")
