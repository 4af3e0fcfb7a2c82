package stores_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sagaflow/sagaflow/config"
	"github.com/sagaflow/sagaflow/internal/stores"
	"github.com/sagaflow/sagaflow/internal/testenv"
)

// Database passwords never appear in errors (which the worker logs): not
// for a wrong password, a malformed URL, or a server that does not answer.
func TestErrorsNeverHoldPasswords(t *testing.T) {
	stack := testenv.Config(t, config.EnvInventoryURL, config.EnvPaymentsURL, config.EnvMongoURI)
	const pgSecret, mongoSecret = "Wr0ng-pg-S3cret", "Wr0ng-mongo-S3cret"
	wrongPassword := func(raw, password string) string {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), password)
		return u.String()
	}
	for name, cfg := range map[string]config.Config{
		"wrong PostgreSQL password": {
			InventoryURL: wrongPassword(stack.InventoryURL, pgSecret), PaymentsURL: stack.PaymentsURL, MongoURI: stack.MongoURI,
		},
		"malformed PostgreSQL URL": {
			InventoryURL: "postgres://inventory:" + pgSecret + "@127.0.0.1:notaport/inventory", PaymentsURL: stack.PaymentsURL, MongoURI: stack.MongoURI,
		},
		"PostgreSQL server down": {
			InventoryURL: "postgres://inventory:" + pgSecret + "@127.0.0.1:1/inventory?connect_timeout=2", PaymentsURL: stack.PaymentsURL, MongoURI: stack.MongoURI,
		},
		"MongoDB server down": {
			InventoryURL: stack.InventoryURL, PaymentsURL: stack.PaymentsURL,
			MongoURI: "mongodb://orders:" + mongoSecret + "@127.0.0.1:1/?serverSelectionTimeoutMS=1000",
		},
		"malformed MongoDB URI": {
			InventoryURL: stack.InventoryURL, PaymentsURL: stack.PaymentsURL,
			MongoURI: "mongodb://orders:" + mongoSecret + "@127.0.0.1:99999999/",
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		st, err := stores.Open(ctx, cfg, stores.Options{})
		cancel()
		if err == nil {
			st.Close()
			t.Errorf("%s: opened", name)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, pgSecret) || strings.Contains(msg, mongoSecret) {
			t.Errorf("%s: the error holds the password: %s", name, msg)
		}
		t.Logf("%s: %s", name, msg)
	}
}
