//! The example configuration printed by `opsdeck default-config`. A test
//! checks that it parses (with its variables set), so it cannot rot.

pub const EXAMPLE_CONFIG: &str = r#"# opsdeck configuration
#
# Secrets never go in this file: name the environment variable (…_env) or
# the file (…_file) that holds each one. `opsdeck check-config FILE` lists
# every problem with its line and key.

[server]
# Address the dashboard and API listen on.
listen = "127.0.0.1:8080"
# Where people reach the dashboard (used in links inside alerts). Optional.
# public_url = "https://ops.example.com"

[database]
# SQLite file (created if missing) or PostgreSQL:
#   url_env = "DATABASE_URL"   with DATABASE_URL=postgres://user:pass@host/opsdeck
url = "sqlite:opsdeck.db"

[reporting]
# Totals across brands are shown in this currency.
currency = "USD"
# First day of "this week".
week_start = "monday"

# What one unit of another currency is worth in the reporting currency, for
# totals across brands (a brand in a currency without a rate is left out of
# money totals, and the totals say so).
[reporting.rates]
EUR = 1.08

# One [[brands]] entry per storefront.
[[brands]]
id = "plentum"                     # lowercase letters, digits, - and _
name = "Plentum"
kind = "subscription"              # standard | subscription | dropship
time_zone = "America/New_York"     # IANA name: days and weeks are counted here
currency = "USD"
launched = true

# Optional; defaults depend on kind (dropship: stale after 5 days, else 3).
[brands.thresholds]
stale_after_days = 3               # unfulfilled order older than this is stale
low_stock = 10                     # tracked variant at or below: low stock
critical_stock = 4                 # at or below: critical (the playbook's "fewer than 5")
high_stock = 50                    # above: overstock, listed for a demand review
delivery_sla_days = 7              # on-time target when no carrier estimate

[brands.shopify]
shop_domain = "plentum.myshopify.com"
access_token_env = "OPSDECK_SHOPIFY_PLENTUM_TOKEN"   # Admin API token (shpat_…)
api_version = "2025-07"
# api = "graphql"                                   # default; "rest" reads orders and the catalog by REST
# base_url = "https://plentum.myshopify.com"        # default; point at a proxy or the simulator
# Webhooks (POST {public_url}/webhooks/shopify; `opsdeck shopify webhooks register`
# subscribes the store): the app's client secret that signs them, and during a
# rotation the previous one, still accepted.
# webhook_secret_env = "OPSDECK_SHOPIFY_WEBHOOK_SECRET"
# previous_webhook_secret_env = "OPSDECK_SHOPIFY_PREVIOUS_WEBHOOK_SECRET"
# Whether Shopify e-mails the customer a return approved or declined from
# the refunds queue (needs the write_returns scope). Default true.
# notify_customer_on_returns = true

[brands.shopify.sync]
orders_every = "15m"
products_every = "1h"
inventory_every = "1h"

[[brands]]
id = "mavena"
name = "Mavena"
kind = "dropship"
time_zone = "America/Los_Angeles"
currency = "USD"

[brands.shopify]
shop_domain = "mavena.myshopify.com"
access_token_env = "OPSDECK_SHOPIFY_MAVENA_TOKEN"

[[brands]]
id = "retromedy"
name = "RetroMedy"
kind = "standard"
time_zone = "America/New_York"
currency = "USD"
launched = false                   # shown greyed, no numbers

# One helpdesk shared by all brands (tickets are attributed by rules).
[gorgias]
subdomain = "acme"                 # acme.gorgias.com
user = "ops@example.com"
api_key_env = "OPSDECK_GORGIAS_API_KEY"
# base_url = "https://acme.gorgias.com"            # default; point at a proxy or the simulator
sync_every = "15m"                 # tickets, then messages, then surveys
# Near real time: a Gorgias HTTP integration (Settings > HTTP integrations)
# POSTs ticket-created, ticket-updated and ticket-message-created events to
# https://<opsdeck>/webhooks/gorgias?secret=<secret> (or with the header
# X-Opsdeck-Secret: <secret>); see README "Gorgias events" for its body.
# webhook_secret_env = "OPSDECK_GORGIAS_WEBHOOK_SECRET"

# Which brand a ticket belongs to: the first rule that matches wins. A ticket
# no rule claims is shown as "unattributed" (never dropped).
[[gorgias.attribution]]
brand = "mavena"
tags = ["mavena", "size-5.5"]                       # any of these tags
receiving_addresses = ["support@mavena.com"]        # or written to this address
# integration_ids = ["12345"]                       # or through this inbox/chat/page

[[gorgias.attribution]]
brand = "plentum"
tags = ["plentum", "subscription-management"]
receiving_addresses = ["support@plentum.com"]

# The brand of the order the ticket is about: an order name it quotes
# (e.g. #1042) that only one brand has, else the customer's most recent order.
[[gorgias.attribution]]
linked_order = true

# Alerts: every rule of the metrics guide is on by default, each number
# configurable per brand. Tiers: slack (team visibility), telegram (the owner
# must see it now), telegram_and_slack (everyone acts); an unacknowledged
# critical alert escalates to the next tier.
[alerts]
every = "5s"                       # evaluation interval (and on every change)
lease = "30s"                      # with several processes, one evaluates; takeover time

[[alerts.rules]]                   # change a default rule for every brand
rule = "zero_orders"
hours = 6
pending = "5m"

[[alerts.overrides]]               # ... or for one brand
brand = "plentum"
rule = "zero_orders"
tier = "telegram"

[[alerts.business_hours]]          # "zero orders" counts open hours only, in the brand's time zone
brand = "mavena"
open = "08:00"
close = "22:00"
days = ["mon", "tue", "wed", "thu", "fri", "sat"]

# Where alerts go: uncomment the channels you use.
# [notifiers.slack]
# webhook_url_env = "OPSDECK_SLACK_WEBHOOK_URL"       # an incoming webhook URL
# [notifiers.telegram]
# bot_token_env = "OPSDECK_TELEGRAM_BOT_TOKEN"
# chat_id = "-1001234567890"
# message_thread_id = 7                               # optional forum topic
# [notifiers.webhook]
# url = "https://ops.example.com/hooks/opsdeck"       # JSON, signed with HMAC-SHA256
# secret_env = "OPSDECK_ALERT_WEBHOOK_SECRET"
# tiers = ["telegram", "telegram_and_slack"]          # default: every tier
# [notifiers.email]
# host = "smtp.example.com"
# security = "starttls"                               # starttls (587) | tls (465) | none (localhost relay)
# from = "opsdeck@example.com"
# to = ["owner@example.com"]
# username = "opsdeck"
# password_env = "OPSDECK_SMTP_PASSWORD"
# tiers = ["telegram_and_slack"]                      # default: every tier

# Sign-in and audit (these are the defaults).
[security]
session_idle_timeout = "30m"       # a session unused this long ends (use restarts it)
session_max_age = "12h"            # and ends this long after login anyway
login_max_failures = 5             # per (username, address); then it waits 1 s, 2 s, 4 s, …
login_lockout = "15m"              # the longest such wait; failures are forgotten after twice it
login_attempts_per_minute_per_ip = 20   # 429 with Retry-After beyond it
ingest_requests_per_minute_per_token = 600
ingest_requests_per_minute_per_ip = 1200
sse_streams_per_session = 8        # live-update streams open at once per session
secure_cookies = "auto"            # auto (behind a trusted https proxy) | always | never
trusted_proxies = ["127.0.0.1"]    # X-Forwarded-For / -Proto believed only from these
audit_retention_days = 90

# Regions group brands and the countries they sell to under one currency,
# time zone and leads (usernames). A region filters every page and API call
# a brand filter does (?region=eu); a brand and a country belong to one
# region at most. Money across brands still totals in [reporting].
[regions.us]
name = "United States"
currency = "USD"
time_zone = "America/New_York"
brands = ["plentum", "mavena"]
countries = ["US"]
leads = ["sam"]

[regions.eu]
name = "European Union"
currency = "EUR"
time_zone = "Europe/Berlin"
brands = ["retromedy"]
countries = ["DE", "FR", "IT", "ES", "NL"]
leads = ["lena"]

[regions.uk]
name = "United Kingdom"
currency = "GBP"
time_zone = "Europe/London"
countries = ["GB"]

[regions.uae]
name = "United Arab Emirates"
currency = "AED"
time_zone = "Asia/Dubai"
countries = ["AE"]

# Shift handovers: a note per region and shift, pre-filled from what is
# live, submitted by the outgoing person and acknowledged by the incoming
# one. Shift starts are read in each region's own time zone; a note not
# acknowledged within ack_within notifies the region's leads once.
[handover]
shifts = ["07:00", "15:00", "23:00"]
ack_within = "30m"

# The refunds, returns and disputes queue (/queues/refunds): each item is
# due this many hours after it started (a dispute no later than its
# evidence date); at risk from 75 % of the window. Defaults: 24 each.
[queues.refunds]
return_hours = 24
refund_hours = 24
dispute_hours = 24

# Customer risk flags beside queue items, urgent tickets, approvals and
# orders: a customer whose lifetime spend is above high_value_spend (whole
# units of the reporting currency) is "high value". Frequent returns
# (> 30 % of at least 3 orders) and dispute history are fixed.
[customers]
high_value_spend = 5000

# Review queues a platform pushes items into (POST /api/v1/ingest/review-items
# or /review-events): an item waiting longer than its queue's sla is
# breached (urgent list, review_sla_breached alert), at risk from 75 % of it.
# A queue with no section has no deadline.
[review_queues.prescriptions]
sla = "1h"
# System health checks (/system, the health_check_down and
# health_check_degraded alerts). Kinds: http (probed at its interval),
# heartbeat (POST /api/v1/ingest/heartbeats), threshold (POST
# /api/v1/ingest/health-values) and success_ratio (over the pushed
# health-checks of one dependency). Down after down_after_failures
# failures within down_within; maintenance = true or maintenance_windows
# hold a check out of judgement.
[health_checks.courier_api]
kind = "success_ratio"
dependency = "courier-api"
last = 100
degraded_below = 0.95
down_below = 0.8
# Privacy requests (exports and erasures, due 30 days after receipt): an
# export's download link works this long, then answers that it expired.
[privacy]
link_lifetime = "72h"

# opsdeck's own metrics for Prometheus: GET /metrics on a listener of its
# own (never the public port), off unless set. Logs as one JSON object per
# line with format = "json" (OPSDECK_LOG_FORMAT=json overrides).
# [observability]
# metrics_listen = "127.0.0.1:9464"
# [logging]
# format = "json"

# Roles are permissions by name. Built in: admin (everything), ops,
# support, finance, viewer, regional_lead, finance_lead, product_lead,
# content_lead, reviewer. A section adds a role or redefines a built-in one
# (not admin). Permissions: view_dashboard, view_revenue (every amount of
# money), act_on_alerts, record_decisions, manage_incidents, refresh_sync,
# manage_users, manage_tokens, view_audit, export_audit, request_approvals,
# decide_approvals, change_flags, view_handover, write_handover,
# decide_returns, change_settings.
# [roles.night_desk]
# permissions = ["view_dashboard", "act_on_alerts", "refresh_sync"]
# brands / regions limit a role to those brands (a region: its brands):
# its people see no other brand anywhere, and asking for one is a 403.
# [roles.eu_lead]
# permissions = ["view_dashboard", "view_revenue", "act_on_alerts", "manage_incidents"]
# regions = ["eu"]

# Incidents: the status page's name (GET /status.json) and what each
# severity means. Every key is optional; the defaults are the playbook's
# (critical: respond immediately, founder and all leads; high: 15 min,
# regional lead; medium: 1 h, team lead; low: 4 h, standard queue).
[incidents]
status_page_name = "Status"
# [incidents.severity.high]
# response_target = "15m"                  # "0s": respond immediately
# notify = ["regional lead"]               # who hears of a declaration
# channels = ["slack", "telegram"]         # slack | telegram | email | webhook
# incident_mode = true                     # banner on every page, pinned on the dashboard
# [[incidents.severity.high.escalation]]   # when the target passes unacknowledged
# after = "0s"
# notify = ["all leads"]
# channels = ["telegram", "slack"]
# repeats = 2                              # further notices until acknowledged
# every = "15m"
[approvals]
expires_after = "24h"              # a request nobody decided by then expires
discount_over_percent = 20         # a discount over this needs approval
refund_over = 500                  # a refund over this, in whole units of its currency

[approvals.approvers]              # who decides each kind: a role name (only that role decides)
price_change = "admin"             # the playbook's: finance_lead, once a user holds it
discount = "admin"                 # the playbook's: regional_lead
refund = "admin"                   # the playbook's: finance_lead
new_product = "admin"              # the playbook's: product_lead
content_update = "admin"           # the playbook's: content_lead

# [[approvals.platforms]]          # a custom platform that asks before it acts
# source = "lux-ingest"            # its ingest token's source
# callback_url_prefix = "https://lux.example.com/opsdeck/"
# callback_secret_env = "LUX_APPROVAL_SECRET"   # signs callbacks (HMAC-SHA256)
# [approvals.telegram_users]       # Telegram user id = the opsdeck user its presses decide as
# "123456789" = "bob"

# Scheduled reports and digests (shown on /reports). The daily digest lists
# open incidents, SLA breaches (refunds queue, review queues), privacy
# requests due within 7 days and yesterday's orders per brand. A time the
# clock skips runs once after the jump (02:30 -> 03:30); a repeated time
# runs once, at its first occurrence.
# [reports.morning]
# report = "daily_digest"
# schedule = "daily 07:00"         # "weekly mon 07:00", "monthly 1 07:00", "cron 0 7 * * mon-fri"
# time_zone = "Europe/Berlin"
# channels = ["email", "slack"]    # email (CSV attached), slack, telegram (summary and a link)
# recipients = ["ops@example.com"]
# brands = ["mavena"]              # optional: only these brands
# sections = ["open_incidents", "sla_breaches", "orders_yesterday"]
# skip_when_empty = true
# audience = "ops"                 # amounts only when this role has view_revenue (default admin)
# owner = "admin"                  # told when a run fails, through owner_channel
# owner_channel = "slack"
"#;
