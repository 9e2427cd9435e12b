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
critical_stock = 3                 # at or below: critical
delivery_sla_days = 7              # on-time target when no carrier estimate

[brands.shopify]
shop_domain = "plentum.myshopify.com"
access_token_env = "OPSDECK_SHOPIFY_PLENTUM_TOKEN"   # Admin API token (shpat_…)
api_version = "2025-07"
# base_url = "https://plentum.myshopify.com"        # default; point at a proxy or the simulator
# Webhooks (POST {public_url}/webhooks/shopify; `opsdeck shopify webhooks register`
# subscribes the store): the app's client secret that signs them, and during a
# rotation the previous one, still accepted.
# webhook_secret_env = "OPSDECK_SHOPIFY_WEBHOOK_SECRET"
# previous_webhook_secret_env = "OPSDECK_SHOPIFY_PREVIOUS_WEBHOOK_SECRET"

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
sync_every = "15m"                 # tickets (with their messages), then surveys

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
"#;
