-- Stock per SKU. total counts every unit ever received; it changes only by
-- seeding or restocking. Conservation: available + reserved = total.
CREATE TABLE stock (
    sku        text        PRIMARY KEY,
    unit_price bigint      NOT NULL CHECK (unit_price > 0),
    total      bigint      NOT NULL CHECK (total >= 0),
    available  bigint      NOT NULL CHECK (available >= 0),
    reserved   bigint      NOT NULL CHECK (reserved >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- One line per SKU of a saga's reservation. The ledger behind stock.reserved:
-- per SKU, reserved = sum(quantity) of the lines still 'reserved'.
CREATE TABLE reservations (
    saga_id     text        NOT NULL,
    order_id    text        NOT NULL,
    sku         text        NOT NULL REFERENCES stock (sku),
    quantity    bigint      NOT NULL CHECK (quantity > 0),
    status      text        NOT NULL CHECK (status IN ('reserved', 'released')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    released_at timestamptz,
    PRIMARY KEY (saga_id, sku)
);
CREATE INDEX reservations_order_id ON reservations (order_id);

-- Domain events, appended in the same local transaction as the change.
CREATE TABLE events (
    id          bigserial   PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    saga_id     text        NOT NULL,
    order_id    text        NOT NULL,
    kind        text        NOT NULL,
    detail      jsonb       NOT NULL
);
