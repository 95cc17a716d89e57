"""The request QR code the employer's page shows stays readable at half size (issue 13 §2): it holds only
``client_id`` and ``request_uri`` (OpenID4VP 1.0 by reference), so its modules stay large. Decoded with
zxing-cpp, an independent QR reader, from the PNG the page shows."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
import zxingcpp
from PIL import Image

from tests.verifier.openid4vp_wallet import request_text

pytestmark = pytest.mark.integration


def test_the_request_qr_code_decodes_at_half_size(client):
    created = client.post("/openid4vp/new", data={"claim": ["title", "ects", "eqf_level", "learning_outcomes"]})
    page = unescape(client.get(created.location).get_data(as_text=True))
    shown = request_text(page)
    image_path = re.search(r'<img class="qr" src="([^"]+)"', page).group(1)
    png = client.get(image_path)
    assert png.status_code == 200
    assert png.mimetype == "image/png"
    with Image.open(io.BytesIO(png.data)) as image:
        half = image.convert("L").resize((image.width // 2, image.height // 2), Image.Resampling.BILINEAR)
    found = [code.text for code in zxingcpp.read_barcodes(half, formats=zxingcpp.BarcodeFormat.QRCode) if code.valid]
    assert found == [shown]
    assert shown.startswith("openid4vp://?client_id=")
    assert "request_uri=" in shown
    assert "nonce" not in shown
    assert "state" not in shown


def test_the_qr_image_is_for_the_page_that_made_the_request_only(app, client):
    created = client.post("/openid4vp/new", data={"claim": ["title"]})
    page = unescape(client.get(created.location).get_data(as_text=True))
    image_path = re.search(r'<img class="qr" src="([^"]+)"', page).group(1)
    assert app.test_client().get(image_path).status_code == 404
