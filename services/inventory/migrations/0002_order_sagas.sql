-- The saga that holds each order id in this store: the first one whose
-- reservation committed. A reservation of another saga for the same order id
-- (a new saga reusing the id of an order whose saga Temporal no longer
-- remembers) is refused with ORDER_EXISTS, so one order id never holds the
-- stock of two sagas. The row stays when the reservation is released, as
-- the order document of the first saga stays.
CREATE TABLE order_sagas (
    order_id   text        PRIMARY KEY,
    saga_id    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO order_sagas (order_id, saga_id, created_at)
SELECT DISTINCT ON (order_id) order_id, saga_id, created_at
FROM reservations
ORDER BY order_id, created_at, saga_id;
