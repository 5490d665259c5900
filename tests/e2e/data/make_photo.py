"""Make the test photos; run once with Pillow, the JPEGs are committed.

photo.jpg: 2400x1800 pixels whose EXIF says "rotate 90° clockwise": a phone that respects
EXIF shows it 1800x2400 (portrait), so the app must give 1200x1600.
photo2.jpg: 3200x2400 landscape, no EXIF: the app must give 1600x1200.
"""

from pathlib import Path

from PIL import Image, ImageDraw

W, H = 2400, 1800
img = Image.new("RGB", (W, H))
px = ImageDraw.Draw(img)
for y in range(0, H, 6):
    px.rectangle([0, y, W, y + 6], fill=(40 + y * 150 // H, 110, 180 - y * 120 // H))
for i in range(0, W, 150):
    px.ellipse([i, (i * 7) % H, i + 120, (i * 7) % H + 120], fill=(230, 200 - i % 90, 60))
px.rectangle([0, 0, 400, 300], fill=(200, 30, 30))  # top-left marker: red before rotation
exif = Image.Exif()
exif[0x0112] = 6
img.save(Path(__file__).with_name("photo.jpg"), "JPEG", quality=88, exif=exif.tobytes())

img2 = Image.new("RGB", (3200, 2400), (30, 90, 60))
d2 = ImageDraw.Draw(img2)
for i in range(0, 3200, 80):
    d2.line([i, 0, 3200 - i, 2400], fill=(200, 220 - i % 120, 90 + i % 100), width=9)
img2.save(Path(__file__).with_name("photo2.jpg"), "JPEG", quality=85)
