#!/usr/bin/env python3
# Writes the seed corpus of fuzz_store (fuzz/corpus/store/): real heartbeat databases at every
# schema version, built from the steps in lib/store/sqlite/migrations.cpp with 512-byte pages
# so that they stay small, each behind fuzz_store's 7-byte input header (see fuzz/fuzz_store.cpp).
# Run it again after adding a migration step.
import pathlib
import re
import sqlite3
import struct
import tempfile

root = pathlib.Path(__file__).resolve().parent.parent
source = (root / "lib/store/sqlite/migrations.cpp").read_text()
steps = re.findall(r'R"sql\((.*?)\)sql"', source, re.S)
out = root / "fuzz/corpus/store"
out.mkdir(parents=True, exist_ok=True)
for old in out.iterdir():
    old.unlink()


def header(flags=0, version=0, split=0):
    return struct.pack(">BiH", flags, version, split)


def database(version, wal_mode=False):
    """The file (and, in WAL mode, the -wal holding one more commit) at schema `version`."""
    with tempfile.TemporaryDirectory() as scratch:
        path = pathlib.Path(scratch) / "seed.db"
        db = sqlite3.connect(path, isolation_level=None)
        db.execute("PRAGMA page_size = 512")
        db.execute("PRAGMA journal_mode = WAL" if wal_mode else "PRAGMA journal_mode = DELETE")
        db.execute("PRAGMA wal_autocheckpoint = 0")
        for step in steps[:version]:
            db.executescript(step)
        db.execute(f"PRAGMA user_version = {version}")
        if wal_mode:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            db.execute("INSERT INTO meta (key, value) VALUES ('seed', 'in the wal')")
            image, wal = path.read_bytes(), pathlib.Path(f"{path}-wal").read_bytes()
            db.close()
            return image, wal
        db.close()
        return path.read_bytes(), b""


current = len(steps)
for version in range(current + 1):
    image, _ = database(version)
    (out / f"v{version}-writer").write_bytes(header() + image)
image, _ = database(current)
(out / f"v{current}-reader").write_bytes(header(flags=1) + image)
(out / "negative-version").write_bytes(header(flags=2, version=-3) + image)
(out / "newer-version").write_bytes(header(flags=2, version=current + 1) + image)
(out / "min-version-reader").write_bytes(header(flags=3, version=-(2**31)) + image)
(out / "truncated").write_bytes(header() + image[:1500])
(out / "header-only").write_bytes(header() + image[:100])
(out / "garbage-after-header").write_bytes(header() + image[:16] + bytes(range(256)) * 4)
(out / "empty").write_bytes(header())
image, wal = database(current, wal_mode=True)
(out / "with-wal").write_bytes(header(flags=4, split=len(image)) + image + wal)
(out / "with-wal-reader").write_bytes(header(flags=5, split=len(image)) + image + wal)
(out / "truncated-wal").write_bytes(header(flags=4, split=len(image)) + image + wal[:100])
print(f"wrote {len(list(out.iterdir()))} seeds to {out}")
