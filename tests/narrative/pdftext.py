"""A PDF with a text layer in Chinese, written without a PDF library (tests only).

Each page is drawn in one simple font whose ``/ToUnicode`` map gives every one-byte code a character, so
``pdftotext`` extracts the Chinese text exactly (no glyphs are needed to extract it)."""

from __future__ import annotations

from pathlib import Path


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    chars = sorted({ch for page in pages for line in page for ch in line})
    if len(chars) > 220:
        raise ValueError("too many distinct characters for one simple font")
    code = {ch: 0x21 + i for i, ch in enumerate(chars)}
    cmap = ["/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
            "/CMapName /T12 def /CMapType 2 def 1 begincodespacerange <00> <FF> endcodespacerange",
            f"{len(chars)} beginbfchar"]
    for ch in chars:
        cmap.append(f"<{code[ch]:02X}> <{ord(ch):04X}>")
    cmap += ["endbfchar endcmap CMapName currentdict /CMap defineresource pop end end"]
    cmap_data = "\n".join(cmap).encode("ascii")
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")          # filled below
    pages_id = add(b"")
    tounicode = add(b"<< /Length %d >>\nstream\n" % len(cmap_data) + cmap_data + b"\nendstream")
    widths = " ".join("500" for _ in chars)
    font = add(f"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 33 /LastChar {0x20 + len(chars)} "
               f"/Widths [{widths}] /ToUnicode {tounicode} 0 R >>".encode("ascii"))
    kids = []
    for page in pages:
        ops = ["BT", "/F1 10 Tf", "14 TL", "40 800 Td"]
        for line in page:
            ops.append("<" + "".join(f"{code[ch]:02X}" for ch in line) + "> Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("ascii")
        content = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        kids.append(add(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R "
                        f"/Resources << /Font << /F1 {font} 0 R >> >> >>".encode("ascii")))
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode("ascii")
    objects[pages_id - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
                             .encode("ascii"))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode("ascii") + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode("ascii")
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("ascii")
    path.write_bytes(bytes(out))
    return path
