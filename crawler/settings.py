"""Scrapy settings for wirearchive: polite, bounded and quiet by default."""

from crawler import __version__
from crawler.sources import DEFAULT_CONFIG

BOT_NAME = "wirearchive"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Who we are, so site operators can reach us; users should point this at their own page.
WIREARCHIVE_CONTACT_URL = "https://github.com/wirearchive/wirearchive"
USER_AGENT = f"wirearchive/{__version__} (+{WIREARCHIVE_CONTACT_URL})"

# wirearchive's own settings (the CLI fills these from sources.yaml and its flags).
WIREARCHIVE_CONFIG = DEFAULT_CONFIG
WIREARCHIVE_ARCHIVE = None  # archive URI; None: the config's `archive:`, else ./archive
WIREARCHIVE_SOURCES: list[str] = []  # empty: every source
WIREARCHIVE_ALLOW_PRIVATE_ADDRESSES = False
WIREARCHIVE_DENY_NETWORKS: list[str] = []
WIREARCHIVE_RUN_ID = None
# True when the runner fetched the index under this run's lock: the crawl does not again.
WIREARCHIVE_INDEX_FETCHED = False
WIREARCHIVE_SUMMARY_PATH = None
WIREARCHIVE_RETRY_BACKOFF_BASE = 1.0
WIREARCHIVE_RETRY_MAX_DELAY = 60.0
WIREARCHIVE_LOCK_LEASE = 180.0  # seconds of the archive run lock's lease, renewed every third
WIREARCHIVE_MAX_TIME = 0.0  # --max-time: seconds after which a run stops as on SIGTERM; 0: none
WIREARCHIVE_LIMIT = 0  # maximum article pages requested per run; 0: no limit
WIREARCHIVE_PROGRESS_INTERVAL = 10.0  # seconds between progress lines
WIREARCHIVE_MODE = "crawl"  # or "backfill": full documents, date range, no validators saved
WIREARCHIVE_SINCE = None  # backfill: YYYY-MM-DD, inclusive, UTC
WIREARCHIVE_UNTIL = None
WIREARCHIVE_URLS: list[str] = []  # backfill --urls: exactly these article pages
WIREARCHIVE_HISTORY = None  # backfill --from: "ccnews" or "wayback"; None: the source's own site
# Where history backfills read (also from the environment variables of the same names).
WIREARCHIVE_CCNEWS_URL = "https://data.commoncrawl.org/"  # or s3://commoncrawl/ (unsigned)
WIREARCHIVE_WAYBACK_URL = "https://web.archive.org/"
WIREARCHIVE_WORKERS = None  # extraction processes; None: one per core; 0: one thread
WIREARCHIVE_WRITE_THREADS = 16  # archive writes in flight at once (S3 PUTs, local fsyncs)
WIREARCHIVE_REFRESH = False  # True: re-fetch archived articles, store changed texts as revisions
WIREARCHIVE_REDIS = None  # redis://HOST:PORT/DB: distributed mode (shared index, claims, leases)
WIREARCHIVE_WORKER = None  # this worker's name in distributed mode; None: host:pid
WIREARCHIVE_JOIN_WAIT = 30.0  # seconds a helper waits idle for work while others discover
WIREARCHIVE_CLAIM_TTL = 600.0  # seconds a dead worker's URL/article claims and leases last
WIREARCHIVE_REJECTED_RETRY = (
    3600.0  # a 404/video/paywall page is asked again after 1 h, 2 h... (0: at once)
)
WIREARCHIVE_NEAR_WINDOW_DAYS = 30.0  # near-duplicates are looked for among this recent window

# Politeness.
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# Parallel calls over one response's output. Scrapy starts this many asyncio tasks for
# every response, whatever it yields: 100 (its default) for an article page's one item cost
# the reactor ~10 ms a page (20,000 tasks for 200 pages). Pages are still extracted in
# parallel across responses; a feed's links are only queued.
CONCURRENT_ITEMS = 4
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024  # larger bodies are abandoned while streaming
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 10
COOKIES_ENABLED = False  # news pages need no session; cookies only leak state between sources

# Nothing listens unless a user asks for it.
REMOTE_CONTROL_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Only http(s) is ever fetched: the handlers that read local files, FTP, S3 or data: URLs
# are off, so a link that slipped past the scheme guard still reaches nothing.
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "s3": None, "data": None}
# A proxy resolves the target's name itself, out of the address guard's sight: requests
# through one are refused unless this is True (see docs/guides/how-it-works.md).
WIREARCHIVE_ALLOW_PROXY = False

DOWNLOADER_MIDDLEWARES = {
    # Very first: a URL that is not http(s) reaches no other middleware and no handler.
    "crawler.downloadermiddlewares.scheme_guard.SchemeGuardMiddleware": 10,
    # First: a URL the archive accounts for costs no request, not even robots.txt.
    "crawler.downloadermiddlewares.skip_archived.SkipArchivedMiddleware": 50,
    # A history record's request is answered from the record: it never reaches the network.
    "crawler.downloadermiddlewares.replay.ReplayMiddleware": 60,
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.downloadermiddlewares.retry.BackoffRetryMiddleware": 550,
    "crawler.downloadermiddlewares.capture.RawCaptureMiddleware": 595,
    # Above RedirectMiddleware (600) so it sees a 3xx first: a loop is counted, not dropped.
    "crawler.downloadermiddlewares.redirect_loop.RedirectLoopMiddleware": 610,
    # Last before the download handler: it sees every request, redirects included.
    "crawler.downloadermiddlewares.address_guard.AddressGuardMiddleware": 950,
}
# Scrapy's scheduler; in distributed mode article requests go through the shared frontier.
SCHEDULER = "crawler.distributed.scheduler.FrontierScheduler"
# Resolves every connection's host and drops non-public addresses (see address_guard.py).
TWISTED_DNS_RESOLVER = "crawler.downloadermiddlewares.address_guard.GuardedResolver"

ITEM_PIPELINES = {
    "pipelines.extract.pipeline.ExtractPipeline": 100,
    "pipelines.dedup.pipeline.DedupPipeline": 500,
    "pipelines.archive.pipeline.ArchivePipeline": 800,
}

EXTENSIONS = {
    "scrapy.extensions.logstats.LogStats": None,
    # The run's shared state: built first, so it is open before the engine needs it; the
    # summary waits for it to be saved at the end. Components find it with get_extension.
    "pipelines.runstate.RunState": 400,
    "crawler.extensions.summary.RunSummary": 500,
    "crawler.extensions.progress.Progress": 510,
    "crawler.extensions.deadline.Deadline": 520,
    "crawler.extensions.lockwatch.LockWatch": 530,
}

LOG_LEVEL = "INFO"
# Items are logged by source and URL only: -v never prints a page's body.
LOG_FORMATTER = "crawler.logformatter.QuietLogFormatter"
# A dropped page is a counted outcome (rejected/..., archive/failed), not a warning.
DEFAULT_DROPITEM_LOG_LEVEL = "INFO"
# Items are logged by source and URL only: -v never prints a page's body.
LOG_FORMATTER = "crawler.logformatter.QuietLogFormatter"
STATS_DUMP = False
