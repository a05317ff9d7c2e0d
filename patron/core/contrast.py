"""Readable text on a coloured badge (WCAG 2.1 contrast).

A badge's text is black or white, whichever contrasts more with its colour.
Pure black rather than a softer near-black: with near-black some mid colours
(e.g. #d4a017 or #20c997) reach less than 4.5:1 with both, and black
always reaches at least 4.58:1 with one of the two.
"""

BLACK = "#000000"
WHITE = "#ffffff"


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(colour: str) -> float:
    """#rrggbb or #rgb → WCAG relative luminance (0 black … 1 white); grey for anything else."""
    text = (colour or "").strip().lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    try:
        r, g, b = (int(text[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        r = g = b = 0x6C
    if len(text) != 6:
        r = g = b = 0x6C
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(first: str, second: str) -> float:
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def text_colour(background: str) -> str:
    """Black or white: the text colour with the higher contrast on `background`."""
    if contrast_ratio(background, BLACK) >= contrast_ratio(background, WHITE):
        return BLACK
    return WHITE
