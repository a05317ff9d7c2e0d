"""Django settings for Patron.

Every setting comes from an environment variable (see `.env.example`) with a
safe default for the embedded mode: SQLite and background work in-process,
everything kept under one data directory.
"""

import os
import secrets
from pathlib import Path

import dj_database_url


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(env("PATRON_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if env("PATRON_SECRET_KEY"):
        return env("PATRON_SECRET_KEY")
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("PATRON_DEBUG", False)
ALLOWED_HOSTS = [
    h.strip() for h in env("PATRON_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
]

# HTTPS (README, "Deploying over HTTPS"). Off by default, so `make run` serves plain
# http://127.0.0.1:8000. PATRON_HTTPS=1 says every request reaches Patron over HTTPS,
# directly or through a TLS proxy: secure-only cookies, HSTS, and plain-HTTP requests
# redirected to HTTPS.
PATRON_HTTPS = env_bool("PATRON_HTTPS", False)
# Behind a proxy that terminates TLS, the proxy's X-Forwarded-Proto says whether the
# visitor used HTTPS. Only with a proxy that sets (and overwrites) that header.
PATRON_BEHIND_PROXY = env_bool("PATRON_BEHIND_PROXY", False)
if PATRON_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("PATRON_SSL_REDIRECT", PATRON_HTTPS)
SESSION_COOKIE_SECURE = PATRON_HTTPS
CSRF_COOKIE_SECURE = PATRON_HTTPS
SECURE_HSTS_SECONDS = env_int("PATRON_HSTS_SECONDS", 31536000 if PATRON_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("PATRON_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("PATRON_HSTS_PRELOAD", False)
if SECURE_HSTS_SECONDS and not SECURE_HSTS_PRELOAD:
    # Joining the browsers' preload list is a separate, hard-to-undo decision
    # (PATRON_HSTS_PRELOAD=1), so `check --deploy` does not nag about it.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
if env("PATRON_CSRF_TRUSTED_ORIGINS"):
    CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("PATRON_CSRF_TRUSTED_ORIGINS").split(",")]
elif PATRON_HTTPS:
    # Forms posted from https://<each allowed host>; ".example.net" means its subdomains.
    CSRF_TRUSTED_ORIGINS = [
        f"https://*{host}" if host.startswith(".") else f"https://{host}"
        for host in ALLOWED_HOSTS
        if host != "*"
    ]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "bootstrap",
    "patron.core",
    "patron.accounts",
    "patron.events",
    "patron.departments",
    "patron.classes",
    "patron.statuses",
    "patron.tags",
    "patron.groups",
    "patron.customers",
    "patron.customfields",
    "patron.banners",
    "patron.calls",
    "patron.segments",
    "patron.notes",
    "patron.tasks",
    "patron.tickets",
    "patron.jobs",
    "patron.bulk",
    "patron.search",
    "patron.imports",
    "patron.ledger",
    "patron.catalogue",
    "patron.subscriptions",
    "patron.billing",
    "patron.payments",
    "patron.cashback",
    "patron.dashboard",
    "patron.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "patron.core.middleware.NoStoreForSignedInMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "patron.urls"
WSGI_APPLICATION = "patron.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "patron.core.context_processors.navigation",
            ],
        },
    },
]

_database_url = env("PATRON_DATABASE_URL")
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "patron.sqlite3",
            "OPTIONS": {
                # WAL lets the web server read while a background job writes.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["patron.accounts.backends.RoleBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "customers:list"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env("PATRON_TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
# Serve straight from the installed packages, so `patron serve` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "patron.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["patron.core.api.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": ["patron.core.filters.PatronFilterBackend"],
    "DEFAULT_PARSER_CLASSES": [
        "patron.core.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "patron.core.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "patron.core.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Patron API",
    "DESCRIPTION": (
        "Customer accounts, contacts and the lists that organise them. Authenticate with "
        "`Authorization: Token <key>`. Updates accept `If-Match` with the ETag of the last read."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI is served from the drf-spectacular-sidecar package, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# /api/schema/ and /api/docs/ need a signed-in user or a token unless this is set.
PATRON_PUBLIC_API_SCHEMA = env_bool("PATRON_PUBLIC_API_SCHEMA", False)

# Patron's own settings.
PATRON_ACCOUNT_NUMBER_FORMAT = env("PATRON_ACCOUNT_NUMBER_FORMAT", "C{n:06d}")
# The installation's home country (ISO 3166-1 code): used only where a value is really
# missing (an empty country, a phone number written without its country code) and to
# show home numbers in national format. Empty: no home country, a country must be given.
# PATRON_PHONE_REGION, its former name, is still read when this is not set.
PATRON_DEFAULT_COUNTRY = (
    env("PATRON_DEFAULT_COUNTRY", env("PATRON_PHONE_REGION", "GB")).strip().upper()
)
PATRON_PHONE_REGION = PATRON_DEFAULT_COUNTRY
PATRON_LOGIN_MAX_FAILURES = env_int("PATRON_LOGIN_MAX_FAILURES", 5)
PATRON_LOGIN_LOCK_MINUTES = env_int("PATRON_LOGIN_LOCK_MINUTES", 15)
PATRON_TOKEN_DAYS = env_int("PATRON_TOKEN_DAYS", 365)
# Money (docs/billing.md): the one currency, and whether catalogue prices include tax.
PATRON_CURRENCY = env("PATRON_CURRENCY", "GBP").strip().upper()
PATRON_PRICES_INCLUDE_TAX = env_bool("PATRON_PRICES_INCLUDE_TAX", False)
# Billing runs (docs/billing.md): the default billing day (1-28), the smallest invoice
# issued (smaller ones are carried to the next run), invoice numbers and payment terms.
PATRON_BILLING_DAY = env_int("PATRON_BILLING_DAY", 1)
PATRON_MINIMUM_INVOICE = env("PATRON_MINIMUM_INVOICE", "0").strip()
PATRON_INVOICE_PREFIX = env("PATRON_INVOICE_PREFIX", "INV-")
PATRON_CREDIT_NOTE_PREFIX = env("PATRON_CREDIT_NOTE_PREFIX", "CN-")
PATRON_INVOICE_DIGITS = env_int("PATRON_INVOICE_DIGITS", 6)
PATRON_PAYMENT_TERMS_DAYS = env_int("PATRON_PAYMENT_TERMS_DAYS", 14)
# Payments (docs/payments.md): how long an Idempotency-Key and its first response are kept.
PATRON_IDEMPOTENCY_HOURS = env_int("PATRON_IDEMPOTENCY_HOURS", 24)
PATRON_EXPORT_RETENTION_DAYS = env_int("PATRON_EXPORT_RETENTION_DAYS", 7)
# The segment language's limits (docs/segments.md): brackets and `not` nested at most
# this deep, and at most this many terms in one query.
PATRON_SEGMENT_MAX_DEPTH = env_int("PATRON_SEGMENT_MAX_DEPTH", 50)
PATRON_SEGMENT_MAX_TERMS = env_int("PATRON_SEGMENT_MAX_TERMS", 500)
PATRON_HOST = env("PATRON_HOST", "127.0.0.1")
PATRON_PORT = env_int("PATRON_PORT", 8000)
# `patron serve`: web processes (a number or "auto"; more than one serves with gunicorn),
# and how long SIGTERM waits for the requests and the job step in hand (docs/jobs.md).
PATRON_WEB_WORKERS = env("PATRON_WEB_WORKERS", "1")
PATRON_SHUTDOWN_GRACE_SECONDS = env_int("PATRON_SHUTDOWN_GRACE_SECONDS", 20)

# Background jobs (docs/jobs.md). Without a broker `patron serve` runs jobs in-process;
# with redis://… or amqp://… they go to `patron worker` processes.
PATRON_BROKER_URL = env("PATRON_BROKER_URL")
PATRON_JOB_HEARTBEAT_SECONDS = env_int("PATRON_JOB_HEARTBEAT_SECONDS", 10)
PATRON_JOB_STALE_SECONDS = env_int("PATRON_JOB_STALE_SECONDS", 120)
PATRON_JOB_MAX_ATTEMPTS = env_int("PATRON_JOB_MAX_ATTEMPTS", 3)
CELERY_BROKER_URL = PATRON_BROKER_URL or "memory://"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "patron"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A Redis broker hands an unacknowledged job to another worker after this long.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 6 * 60 * 60}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("PATRON_LOG_LEVEL", "WARNING")},
}
