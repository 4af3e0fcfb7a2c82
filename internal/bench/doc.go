// Package bench measures the order saga side by side with its baselines, in
// one run on one stack (`make bench`, `go run ./bench`):
//
//   - floor: the saga's database operations (PriceOrder's quote, CreateOrder,
//     ReserveStock and ChargePayment in parallel, CreateShipment,
//     ConfirmOrder) called directly on the real services, no Temporal;
//   - bare, bare-local: a Temporal workflow of six no-op activities shaped
//     like the saga (regular or local activities), no database;
//   - sagaflow, sagaflow-local: the real OrderSaga with the real activities
//     over the real stores, its steps as regular or local activities;
//   - coordinated: the anti-pattern the seed warns against, the same order
//     update done inside PostgreSQL transactions that lock the stock and
//     account rows (SELECT ... FOR UPDATE) and hold them while the MongoDB
//     writes happen.
//
// Every cell (mode, workload, concurrency) runs on stores of its own: a
// fresh schema in the inventory and payments databases and a fresh MongoDB
// database on the stack's servers, seeded with a known stock, checked for
// oversell and by the invariant checker when the cell ends, then dropped.
// Workers run in this process, on task queues of their own.
package bench
