"""Write omegaml-0.18-archive.tgz: every object of make_fixture.py, archived by omegaml 0.18.

Runs with omegaml 0.18 in its own virtualenv, against an empty database (see
make_fixture.py for the server)::

    /tmp/omegaml-venv/bin/python make_archive_fixture.py \\
        'mongodb://127.0.0.1:27999/omarchive?retryWrites=false' omegaml-0.18-archive.tgz

It stores the objects make_fixture.py stores, exports each with omegaml's ``to_archive``
into one archive directory and compresses it as omegaml's exporter does (a ``.tgz``
holding that directory). test_archive_omegaml018.py imports each object from it and
compares our ``get`` with what omegaml's ``get`` returned for the original object (the
cases of omegaml-0.18.json.gz).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import warnings
from pathlib import Path

from make_fixture import fill


def main(url: str, out: str) -> None:
    from omegaml.mixins.store.imexport import OmegaExporter
    from omegaml.store import OmegaStore

    warnings.simplefilter("ignore")
    ds = OmegaStore(mongo_url=url, prefix="data/")
    ms = OmegaStore(mongo_url=url, prefix="models/")
    if ds.mongodb.list_collection_names():
        sys.exit(f"database {ds.mongodb.name} is not empty: give a fresh one")
    with tempfile.TemporaryDirectory() as tmp:
        fill(ds, ms, Path(tmp))
        folder = Path(tmp) / "omegaml-archive"
        for store in (ds, ms):
            for name in sorted(store.list()):
                store.to_archive(name, folder)
        archive = OmegaExporter.archive(folder)
        with archive:
            pass
        tarball = archive.compress(mode="gz")
        shutil.move(str(tarball), out)
    print(f"wrote {out}: {Path(out).stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
