-- The read store: views built by the projector from the four services'
-- domain events. Nothing here is a source of truth; every row can be
-- rebuilt from the events (internal/readstore).

-- One row per projector name. epoch goes up by one at every grant; a holder
-- writes only in a transaction that first locks this row (FOR SHARE) and
-- finds its own epoch unexpired, so a holder whose lease was taken over is
-- fenced off: the taker's UPDATE waits for its open transaction and bumps
-- the epoch, and every later transaction of the old holder finds a newer
-- epoch and writes nothing.
CREATE TABLE projector_lease (
    name       text        PRIMARY KEY,
    holder     text        NOT NULL DEFAULT '',
    epoch      bigint      NOT NULL DEFAULT 0,
    granted_at timestamptz,
    expires_at timestamptz NOT NULL DEFAULT '-infinity'
);

-- Every grant of the lease, and every commit of the projector with the
-- epoch that wrote it: a commit written after a later epoch's grant is a
-- write by a fenced leader (make chaos counts them; there must be none).
CREATE TABLE projector_grants (
    name       text        NOT NULL,
    epoch      bigint      NOT NULL,
    holder     text        NOT NULL,
    granted_at timestamptz NOT NULL,
    PRIMARY KEY (name, epoch)
);
CREATE TABLE projector_commits (
    id         bigserial   PRIMARY KEY,
    name       text        NOT NULL,
    epoch      bigint      NOT NULL,
    source     text        NOT NULL,
    events     integer     NOT NULL,
    written_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX projector_commits_written_at ON projector_commits (written_at);

-- Where the projector stands in each PostgreSQL service's event log
-- (pgstore.Position), committed with the view changes of the events it
-- read. The MongoDB services' positions are per document (order_view's
-- orders_seq and shipping_seq).
CREATE TABLE source_positions (
    source     text        PRIMARY KEY,
    tx_id      bigint      NOT NULL,
    event_id   bigint      NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- What the projector last measured of its backlog, per source, for the
-- query commands' lag message and the metrics.
CREATE TABLE source_lag (
    source      text        PRIMARY KEY,
    events      integer     NOT NULL,
    oldest_at   timestamptz,
    measured_at timestamptz NOT NULL
);

-- One row per order: the facts its events established.
CREATE TABLE order_view (
    order_id       text        PRIMARY KEY,
    saga_id        text        NOT NULL,
    customer_id    text,
    region         text,
    items          jsonb,
    total          bigint,
    status         text,
    reason         text,
    stock          text,
    stock_lines    jsonb,
    payment        text,
    amount         bigint,
    shipment       text,
    tracking       text,
    country        text,
    orders_seq     integer     NOT NULL DEFAULT 0,
    shipping_seq   integer     NOT NULL DEFAULT 0,
    first_event_at timestamptz NOT NULL,
    last_event_at  timestamptz NOT NULL,
    projected_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_view_customer ON order_view (customer_id, first_event_at);

-- Every event of every order, from the four services.
CREATE TABLE order_timeline (
    event_id     text        PRIMARY KEY,
    order_id     text        NOT NULL,
    saga_id      text        NOT NULL,
    source       text        NOT NULL,
    kind         text        NOT NULL,
    occurred_at  timestamptz NOT NULL,
    projected_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    detail       jsonb
);
CREATE INDEX order_timeline_order ON order_timeline (order_id, occurred_at);
CREATE INDEX order_timeline_projected_at ON order_timeline (projected_at);

-- Counters, each the sum of its orders' contributions (readstore.Contribution).
CREATE TABLE customer_view (
    customer_id text   PRIMARY KEY,
    orders      bigint NOT NULL DEFAULT 0,
    confirmed   bigint NOT NULL DEFAULT 0,
    cancelled   bigint NOT NULL DEFAULT 0,
    captured    bigint NOT NULL DEFAULT 0,
    refunded    bigint NOT NULL DEFAULT 0
);
CREATE TABLE sku_view (
    sku              text   PRIMARY KEY,
    reserved         bigint NOT NULL DEFAULT 0,
    sold             bigint NOT NULL DEFAULT 0,
    released         bigint NOT NULL DEFAULT 0,
    revenue_captured bigint NOT NULL DEFAULT 0,
    revenue_refunded bigint NOT NULL DEFAULT 0
);
CREATE TABLE region_view (
    region           text   PRIMARY KEY,
    orders           bigint NOT NULL DEFAULT 0,
    reserved         bigint NOT NULL DEFAULT 0,
    sold             bigint NOT NULL DEFAULT 0,
    released         bigint NOT NULL DEFAULT 0,
    revenue_captured bigint NOT NULL DEFAULT 0,
    revenue_refunded bigint NOT NULL DEFAULT 0
);
