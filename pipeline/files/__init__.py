"""Files: record layouts (layouts/*.yaml, checked in full when loaded), line readers, the compiled
fixed-width scanner and its C loop, pandera schemas, validation with controls and one registry of
error codes, writers (fixed-width / CSV, atomic) and decoding of any known file.

Bytes in, frames and reject tables out: no store, no exchange logic. May import `pipeline.safeguards`.
"""
