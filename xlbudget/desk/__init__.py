"""The bureau's desk: ``xlbudget serve``, a local web application over an archive of every submission.

* :mod:`.config`   settings (database URL, data folder, limits, token);
* :mod:`.db`       the archive's tables (SQLAlchemy) and their migrations (Alembic, ``migrations/``);
* :mod:`.storage`  submitted files stored once by SHA-256, read-only;
* :mod:`.intake`   what an upload holds: files, folders, zips, within limits;
* :mod:`.jobs`     background checking (the library's ``check_file``, the shared content-hash cache);
* :mod:`.sheets`   a table drawn as HTML from the table set's layout, with the cells of findings marked;
* :mod:`.security` loopback default, token, CSRF;
* :mod:`.queries`  what the pages show, computed from the archive;
* :mod:`.core`     one desk (what every page shares); :mod:`.pages`, :mod:`.files` (downloads, builds) and
  :mod:`.api` (JSON) its handlers; :mod:`.app` the routes (Starlette; Jinja2 templates under ``templates/``).
"""

from .config import DeskConfig

__all__ = ["DeskConfig", "create_app"]


def create_app(config: DeskConfig | None = None):
    from .app import create_app as make

    return make(config)
