-- Customer accounts. credited counts every unit of money ever paid in; it
-- changes only by seeding or deposits. Conservation per account:
-- balance + sum(amount of captured payments) = credited.
CREATE TABLE accounts (
    customer_id text        PRIMARY KEY,
    credited    bigint      NOT NULL CHECK (credited >= 0),
    balance     bigint      NOT NULL CHECK (balance >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One payment per saga: captured by ChargePayment, refunded by its compensation.
CREATE TABLE payments (
    saga_id     text        PRIMARY KEY,
    order_id    text        NOT NULL,
    customer_id text        NOT NULL REFERENCES accounts (customer_id),
    amount      bigint      NOT NULL CHECK (amount > 0),
    status      text        NOT NULL CHECK (status IN ('captured', 'refunded')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    refunded_at timestamptz
);
CREATE INDEX payments_order_id ON payments (order_id);
CREATE INDEX payments_customer_id ON payments (customer_id);

-- Domain events, appended in the same local transaction as the change.
CREATE TABLE events (
    id          bigserial   PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    saga_id     text        NOT NULL,
    order_id    text        NOT NULL,
    kind        text        NOT NULL,
    detail      jsonb       NOT NULL
);
