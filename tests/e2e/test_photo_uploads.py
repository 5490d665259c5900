"""The field app's photos in Chromium: WebP where the browser really makes it (else JPEG),
and uploads a bounded few at a time with a progress bar that counts bytes truthfully."""

from __future__ import annotations

import base64

import pytest

from tests.e2e.conftest import PHOTO

pytestmark = pytest.mark.browser

SHRINK = """async (b64) => {
    const { shrink } = await import('/app/js/photos.js');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const { blob, type } = await shrink(new Blob([bytes], { type: 'image/jpeg' }));
    const head = new Uint8Array(await blob.slice(0, 12).arrayBuffer());
    return { type, size: blob.size, head: Array.from(head) };
}"""

# What Safari does: asked for WebP, toBlob/convertToBlob hand back a PNG.
NO_WEBP = """(() => {
    const png = (orig) => function (...args) {
        if (typeof args[0] === 'object' && args[0]?.type === 'image/webp') {
            return orig.call(this, { ...args[0], type: 'image/png' });
        }
        if (typeof args[0] === 'function' && args[1] === 'image/webp') {
            return orig.call(this, args[0], 'image/png');
        }
        return orig.apply(this, args);
    };
    OffscreenCanvas.prototype.convertToBlob = png(OffscreenCanvas.prototype.convertToBlob);
    HTMLCanvasElement.prototype.toBlob = png(HTMLCanvasElement.prototype.toBlob);
})();"""


def _photo_b64() -> str:
    return base64.b64encode(PHOTO.read_bytes()).decode()


def test_photos_are_webp_where_the_browser_encodes_it(make_phone):
    page = make_phone().goto()
    got = page.evaluate(SHRINK, _photo_b64())
    assert got["type"] == "image/webp" and bytes(got["head"][8:12]) == b"WEBP"
    assert got["size"] <= 250 * 1024


def test_a_browser_that_answers_webp_with_png_keeps_jpeg(make_phone):
    phone = make_phone()
    phone.context.add_init_script(NO_WEBP)
    page = phone.goto()
    got = page.evaluate(SHRINK, _photo_b64())
    assert got["type"] == "image/jpeg" and got["head"][:3] == [0xFF, 0xD8, 0xFF]


UPLOAD_ALL = """async () => {
    const { uploadAll } = await import('/app/js/uploads.js');
    const { get } = await import('/app/js/db.js');
    const sizes = [300000, 120000, 250000, 90000, 180000, 60000, 210000];
    const rows = sizes.map((n, i) => ({ sha256: String(i).repeat(64), mime: 'image/webp',
        blob: new Blob([new Uint8Array(n)]) }));
    const refused = rows[4].sha256;       // the server says: not a photo (415)
    const resumed = rows[2].sha256;       // the server already holds 100000 bytes of it
    let inFlight = 0, most = 0;
    const seen = [];
    const wait = (ms) => new Promise((r) => setTimeout(r, ms));
    const api = async (path, { method = 'GET', body, onBytes, headers } = {}) => {
        const sha = path.split('/')[3];
        if (method === 'GET') return { received: sha === resumed ? 100000 : 0, complete: false };
        inFlight++;
        most = Math.max(most, inFlight);
        try {
            await wait(30);
            if (sha === refused) return new Response('{}', { status: 415 });
            for (let sent = 0; sent < body.size;) {   // the network takes the chunk bit by bit
                sent = Math.min(body.size, sent + 50000);
                onBytes(sent);
                await wait(5);
            }
            const [, range] = headers['Content-Range'].split(' ');
            const end = Number(range.split('-')[1].split('/')[0]) + 1;
            const total = Number(range.split('/')[1]);
            return new Response(JSON.stringify({ received: end, complete: end === total }));
        } finally { inFlight--; }
    };
    const failed = await uploadAll(rows, { api, stopOn: () => false,
        onBytes: (n) => seen.push(n) });
    const states = [];
    for (const r of rows) {
        const row = await get('photos', r.sha256);
        states.push(row?.refused ? 'refused' : row?.uploaded ? 'uploaded' : 'none');
    }
    const expected = sizes.reduce((a, n, i) => a + (i === 4 ? 0 : n), 0);
    return { failed, most, seen, expected, states };
}"""


def test_uploads_run_three_at_a_time_and_progress_counts_bytes(make_phone):
    page = make_phone().goto()
    out = page.evaluate(UPLOAD_ALL)
    assert out["failed"] == 0 and out["most"] == 3
    assert out["states"] == ["uploaded"] * 4 + ["refused"] + ["uploaded"] * 2
    seen = out["seen"]
    assert seen == sorted(seen), "progress never runs backwards"
    assert seen[-1] == out["expected"], "the bar ends at the bytes the server holds"
    assert 100000 in seen[:3], "a resumed photo starts from what the server already held"
