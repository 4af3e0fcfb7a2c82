package mongostore

import (
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// MaxPoolSize bounds each process's connections to the MongoDB server, and
// so its requests in flight (a connection carries one request at a time).
//
// The bound keeps the local stack's MongoDB server answering: FerretDB 1.24
// on PostgreSQL holds one connection of its PostgreSQL pool for an update's
// (or a delete's, or a findAndModify's) query while it waits for a second
// one for the write, so with as many of those in flight as its pool has
// connections every one of them waits for a connection that never frees,
// and FerretDB stops answering everyone. The stack gives FerretDB a pool
// several times this bound (see stack's ferretDBPoolMaxConns). The
// driver's default is 100.
const MaxPoolSize = 24

// opTimeout bounds each operation, the wait for a pooled connection
// included.
const opTimeout = 30 * time.Second

// Connect returns a client of the MongoDB server at uri with MaxPoolSize
// connections (unless uri sets maxPoolSize: against a real MongoDB a bigger
// pool is safe) and a bound on every operation. It does not wait for the
// server: the first operation does.
func Connect(uri string) (*mongo.Client, error) {
	client, err := mongo.Connect(clientOptions(uri))
	if err != nil {
		return nil, fmt.Errorf("connect to MongoDB: %w", err)
	}
	return client, nil
}

// clientOptions are Connect's options for uri.
func clientOptions(uri string) *options.ClientOptions {
	opts := options.Client().ApplyURI(uri).SetTimeout(opTimeout)
	if opts.MaxPoolSize == nil {
		opts.SetMaxPoolSize(MaxPoolSize)
	}
	return opts
}
