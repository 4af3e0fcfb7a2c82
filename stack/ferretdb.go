package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
)

// mongoProbeDB is the scratch database the readiness check writes to and drops.
const mongoProbeDB = "sagaflow_stack_probe"

func ferretDBDataDir(s settings) string { return filepath.Join(s.dataDir, "ferretdb") }

func ferretDBIdentity(s settings) processIdentity {
	return processIdentity{exe: filepath.Join(s.toolsBin(), ferretDBBin), marker: ferretDBDataDir(s)}
}

// mongoURI is the URI of a MongoDB protocol server on the listen address.
func mongoURI(port int) string {
	return "mongodb://" + listenAddr(port) + "/"
}

// startFerretDB starts our FerretDB runner on the SQLite backend.
func startFerretDB(s settings, bin string, port int) (*detached, error) {
	args := []string{
		"-listen", listenAddr(port),
		"-data-dir", ferretDBDataDir(s),
		// FerretDB logs every failed command (a duplicate key, the driver's
		// endSessions on disconnect) at warn, with the whole message.
		"-log-level", "error",
	}
	d, err := startDetached(bin, args, nil, s.logFile("ferretdb"))
	if err != nil {
		return nil, fmt.Errorf("start ferretdb: %w", err)
	}
	return d, nil
}

// checkMongo pings the server, then inserts, finds and drops a document in a
// scratch database, so a server that accepts connections but cannot store
// data is not taken as ready.
func checkMongo(ctx context.Context, uri string, roundTrip bool) error {
	client, err := mongo.Connect(options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(2 * time.Second).
		SetConnectTimeout(2 * time.Second))
	if err != nil {
		return fmt.Errorf("mongo client: %w", err)
	}
	defer client.Disconnect(context.Background())
	if err := client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	if !roundTrip {
		return nil
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return fmt.Errorf("probe id: %w", err)
	}
	id := hex.EncodeToString(b)
	db := client.Database(mongoProbeDB)
	defer db.Drop(context.Background())
	coll := db.Collection("probe")
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "at", Value: time.Now()}}); err != nil {
		return fmt.Errorf("insert probe: %w", err)
	}
	var got bson.M
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&got); err != nil {
		return fmt.Errorf("find probe: %w", err)
	}
	if got["_id"] != id {
		return errors.New("find probe: got another document")
	}
	if err := db.Drop(ctx); err != nil {
		return fmt.Errorf("drop probe database: %w", err)
	}
	return nil
}
