"""Draws Lookalike's app icon (a magnifier over two matching tiles) as a 1024x1024 PNG.

Usage: python3 scripts/make_icon.py src-tauri/icons/source.png   (needs Pillow)
Then `npx tauri icon src-tauri/icons/source.png -o src-tauri/icons` renders every platform size.
"""
import sys

from PIL import Image, ImageDraw

S = 1024
img = Image.new("RGBA", (S, S), (0, 0, 0, 0))
d = ImageDraw.Draw(img)
d.rounded_rectangle((40, 40, S - 40, S - 40), radius=220, fill=(24, 32, 56, 255))
# two "lookalike" tiles
d.rounded_rectangle((170, 220, 470, 520), radius=60, fill=(255, 122, 89, 255))
d.rounded_rectangle((554, 220, 854, 520), radius=60, fill=(255, 150, 120, 255))
# magnifier
d.ellipse((300, 400, 720, 820), outline=(245, 247, 250, 255), width=70)
d.line((660, 760, 850, 950), fill=(245, 247, 250, 255), width=90)
img.save(sys.argv[1])
